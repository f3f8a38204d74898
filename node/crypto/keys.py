"""Ed25519 private keys, signature checks and key files (JSON, written 0600)."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import nacl.exceptions
import nacl.signing

from node.crypto.keystore import SEALED_TYPE, WrongPassphrase, open_seed, seal_seed

PUBLIC_KEY_SIZE = 32
SIGNATURE_SIZE = 64


class KeyFileError(Exception):
    """A key file is missing, unreadable, or not an orechain Ed25519 key."""


@dataclass(frozen=True)
class PrivateKey:
    seed: bytes = field(repr=False)
    # Expanded from the seed once: the expansion is a scalar multiplication, as costly
    # as the signature itself, and a validator signs two or three times a height.
    _signing_key: nacl.signing.SigningKey = field(init=False, repr=False, compare=False)
    public_key: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.seed) != 32:
            raise ValueError("an Ed25519 seed is 32 bytes")
        signing_key = nacl.signing.SigningKey(self.seed)
        object.__setattr__(self, "_signing_key", signing_key)
        object.__setattr__(self, "public_key", bytes(signing_key.verify_key))

    @classmethod
    def generate(cls) -> PrivateKey:
        return cls(bytes(nacl.signing.SigningKey.generate()))

    def sign(self, message: bytes) -> bytes:
        return self._signing_key.sign(message).signature


def verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True only for a valid Ed25519 signature; never raises on malformed input
    (anything but bytes is simply not a valid signature)."""
    if not (type(public_key) is type(message) is type(signature) is bytes) \
            or len(public_key) != PUBLIC_KEY_SIZE or len(signature) != SIGNATURE_SIZE:
        return False
    try:
        nacl.signing.VerifyKey(public_key).verify(message, signature)
        return True
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError):
        return False


def devnet_key(label: str) -> PrivateKey:
    """Well-known development key: seed = SHA-256(label). Never for production."""
    return PrivateKey(hashlib.sha256(label.encode()).digest())


def write_key_file(path: Path, key: PrivateKey, *, overwrite: bool = False,
                   passphrase: bytes | None = None) -> None:
    """Write `key` to `path` readable by the owner only, atomically; sealed under
    `passphrase` (argon2id + secretbox) when one is given."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise KeyFileError(f"{path} already exists; refusing to overwrite a key")
    path.parent.mkdir(parents=True, exist_ok=True)
    doc: dict[str, object] = {"type": "ed25519", "public_key": key.public_key.hex()}
    if passphrase:
        doc.update(type=SEALED_TYPE, **seal_seed(key.seed, passphrase))
    else:
        doc["seed"] = key.seed.hex()
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(doc, fh, indent=2)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def key_file_is_sealed(path: Path) -> bool:
    try:
        return json.loads(Path(path).read_text()).get("type") == SEALED_TYPE
    except (OSError, ValueError, AttributeError):
        return False


def load_key_file(path: Path, passphrase: bytes | None = None) -> PrivateKey:
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise KeyFileError(f"no key file at {path} (create one: orechain keygen)") from None
    except (OSError, ValueError) as exc:
        raise KeyFileError(f"key file {path} is not readable JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise KeyFileError(f"key file {path} is not an orechain key")
    try:
        if doc.get("type") == SEALED_TYPE:
            if not passphrase:
                raise KeyFileError(f"key file {path} is passphrase-protected; give the "
                                   "passphrase (ORECHAIN_KEY_PASSPHRASE or --passphrase-file)")
            seed = open_seed(doc, passphrase)
        elif doc.get("type") == "ed25519":
            seed = bytes.fromhex(doc["seed"])
        else:
            raise KeyFileError(f"key file {path} is not an ed25519 key")
        key = PrivateKey(seed)
    except WrongPassphrase as exc:
        raise KeyFileError(f"key file {path}: {exc}") from None
    except (AttributeError, KeyError, ValueError, TypeError):
        raise KeyFileError(f"key file {path} has no valid 32-byte seed") from None
    if "public_key" in doc and doc["public_key"] != key.public_key.hex():
        raise KeyFileError(f"key file {path}: public_key does not match the seed")
    return key
