"""Node configuration: HOME/config.toml, commented, written by `orechain init` (or the
first `orechain run`) and edited by operators."""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from node.types.genesis import Genesis, GenesisError

CONFIG_FILE = "config.toml"
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
    submit_max_pending: int = 0  # busy past this many pending events (0: mempool capacity)
    tx_relay: bool = True  # take events relayed by peers (false: a leaf, e.g. a mine site)
    consensus_relay: bool = True  # take proposals and votes (false: follows final blocks)
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

    def to_toml(self) -> str:
        lines = ["# orechain node configuration. Relative paths are relative to this folder.",
                 "# Edit, then restart the node. `orechain run --help` lists the overrides.", ""]
        for name, value in self.to_json().items():
            lines.append(f"# {_SETTING_HELP[name]}")
            lines.append(f"{name} = {_toml_value(value)}")
            lines.append("")
        return "\n".join(lines)

    def save(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        path = self.home / CONFIG_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.to_toml())
        os.replace(tmp, path)

    @classmethod
    def load(cls, home: Path) -> NodeConfig:
        path = Path(home) / CONFIG_FILE
        try:
            doc = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"no {CONFIG_FILE} in {home}; create one with "
                              "`orechain init --home DIR`") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from None
        unknown = set(doc) - set(_SETTING_TYPES)
        if unknown:
            raise ConfigError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}")
        for name, value in doc.items():
            expected = _SETTING_TYPES[name]
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                raise ConfigError(f"{path}: {name} must be {expected.__name__}")
            if expected is int and value < 0:
                raise ConfigError(f"{path}: {name} must not be negative, got {value}")
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


_SETTING_HELP = {
    "moniker": "A name for this node in logs and status.",
    "node_key_file": "This node's Ed25519 key; its public key must be in the node registry.",
    "genesis_file": "The network's genesis document; empty means the embedded devnet genesis.",
    "rpc_host": "JSON-RPC listener address. Keep 127.0.0.1 unless clients elsewhere need it.",
    "rpc_port": "JSON-RPC listener port (POST /rpc).",
    "p2p_host": "Peer listener address; other operators' nodes connect here.",
    "p2p_port": "Peer listener port.",
    "peers": 'Peers to keep links to, as "host:port" or "<node key hex>@host:port".',
    "rpc_token": "Bearer token required for write methods from beyond 127.0.0.1.",
    "rpc_rate_per_s": "Calls per second allowed per client address (0: no limit).",
    "rpc_burst": "Calls a client may make at once before the rate limit applies.",
    "submit_max_pending": ("New events are refused as busy (clients retry) while this many "
                           "wait in the mempool; 0: only its capacity of 100,000 limits. On a "
                           "node serving many clients, a few seconds of what the network "
                           "finalises keeps latency bounded under overload; leave 0 on a mine "
                           "site that must take events while offline."),
    "tx_relay": ("Take the events other nodes relay into this node's mempool. A validator "
                 "must. false suits a node that only submits its own events and follows "
                 "final blocks, such as a mine site on a metered link: its peers stop "
                 "sending it every event, which it would otherwise download twice (relayed, "
                 "then in the block). Its own events still go out to its peers."),
    "consensus_relay": ("Take the validators' proposals and votes from peers, and pass them "
                        "on. A validator must. false suits a node that never votes and "
                        "follows final blocks, such as a mine site: each block brings its "
                        "commit certificate, so the node needs none of the votes, which "
                        "otherwise reach it (and are checked and relayed by it) from every "
                        "peer at every height. Blocks still arrive as soon as they are final."),
    "org_key_file": "Org key used to sign EPCIS events captured through this node.",
    "passphrase_file": "File whose first line unlocks passphrase-protected key files.",
    "log_json": "Write logs as one JSON object per line.",
}
_SETTING_TYPES: dict[str, type] = {
    "moniker": str, "node_key_file": str, "genesis_file": str, "rpc_host": str,
    "rpc_port": int, "p2p_host": str, "p2p_port": int, "peers": list, "rpc_token": str,
    "rpc_rate_per_s": int, "rpc_burst": int, "submit_max_pending": int, "tx_relay": bool,
    "consensus_relay": bool,
    "org_key_file": str, "passphrase_file": str, "log_json": bool,
}


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


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
