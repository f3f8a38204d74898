"""Node configuration: HOME/config.json, written on first run and edited by operators."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from node.types.genesis import Genesis, GenesisError

CONFIG_FILE = "config.json"
PASSPHRASE_ENV = "ORECHAIN_KEY_PASSPHRASE"


class ConfigError(Exception):
    """The node's configuration cannot be used; the message says what to fix."""


@dataclass
class NodeConfig:
    home: Path
    moniker: str = "orechain-node"
    node_key_file: str = "node.key"
    genesis_file: str = ""  # empty: the embedded devnet genesis
    rpc_host: str = "127.0.0.1"
    rpc_port: int = 26657
    p2p_host: str = "127.0.0.1"
    p2p_port: int = 26656
    peers: list[str] = field(default_factory=list)  # "host:port" of other nodes
    rpc_token: str = ""  # bearer token for write methods from beyond loopback
    rpc_rate_per_s: int = 2_000  # calls per second per client address (0: unlimited)
    rpc_burst: int = 10_000
    org_key_file: str = ""  # the org key this node signs captured EPCIS events with
    passphrase_file: str = ""  # unlocks passphrase-protected key files at start
    log_json: bool = False

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def key_path(self) -> Path:
        return _resolve(self.home, self.node_key_file)

    @property
    def org_key_path(self) -> Path:
        return _resolve(self.home, self.org_key_file)

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc.pop("home")
        return doc

    def save(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        path = self.home / CONFIG_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        os.replace(tmp, path)

    @classmethod
    def load(cls, home: Path) -> NodeConfig:
        path = Path(home) / CONFIG_FILE
        try:
            doc = json.loads(path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"no {CONFIG_FILE} in {home}; start once with "
                              "`orechain run --home DIR` to create one") from None
        except ValueError as exc:
            raise ConfigError(f"{path} is not valid JSON: {exc}") from None
        known = set(cls.__dataclass_fields__) - {"home"}
        unknown = set(doc) - known
        if unknown:
            raise ConfigError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}")
        return cls(home=Path(home), **doc)

    def passphrase(self) -> bytes | None:
        """The key passphrase: ORECHAIN_KEY_PASSPHRASE, else the first line of passphrase_file."""
        env = os.environ.get(PASSPHRASE_ENV)
        if env:
            return env.encode()
        if self.passphrase_file:
            path = _resolve(self.home, self.passphrase_file)
            try:
                return path.read_text().splitlines()[0].encode()
            except (OSError, IndexError):
                raise ConfigError(f"cannot read a passphrase from {path}") from None
        return None

    def load_genesis(self) -> Genesis:
        if self.genesis_file:
            return load_genesis_file(_resolve(self.home, self.genesis_file))
        return default_genesis()


def _resolve(home: Path, name: str) -> Path:
    p = Path(name)
    return p if p.is_absolute() else home / p


def load_genesis_file(path: Path) -> Genesis:
    try:
        doc = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"genesis file {path} does not exist") from None
    except ValueError as exc:
        raise ConfigError(f"genesis file {path} is not valid JSON: {exc}") from None
    try:
        return Genesis.from_json(doc)
    except GenesisError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def default_genesis_text() -> str:
    return resources.files("node.genesis").joinpath("devnet.json").read_text()


def default_genesis() -> Genesis:
    return Genesis.from_json(json.loads(default_genesis_text()))
