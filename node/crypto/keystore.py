"""Passphrase protection of key seeds: argon2id derives a key, secretbox seals the seed.

The parameters travel with the sealed seed, so a file written with stronger settings
still opens; a wrong passphrase and a tampered file both fail authentication.
"""

from __future__ import annotations

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils

SEALED_TYPE = "ed25519-argon2id-secretbox"
OPSLIMIT = nacl.pwhash.argon2id.OPSLIMIT_MODERATE
MEMLIMIT = nacl.pwhash.argon2id.MEMLIMIT_MODERATE
_LIMITS_CAP = (nacl.pwhash.argon2id.OPSLIMIT_SENSITIVE, nacl.pwhash.argon2id.MEMLIMIT_SENSITIVE)


class WrongPassphrase(Exception):
    """The passphrase does not open this key file (or the file was altered)."""


def _box(passphrase: bytes, salt: bytes, opslimit: int, memlimit: int) -> nacl.secret.SecretBox:
    key = nacl.pwhash.argon2id.kdf(nacl.secret.SecretBox.KEY_SIZE, passphrase, salt,
                                   opslimit=opslimit, memlimit=memlimit)
    return nacl.secret.SecretBox(key)


def seal_seed(seed: bytes, passphrase: bytes, *, opslimit: int = OPSLIMIT,
              memlimit: int = MEMLIMIT) -> dict[str, object]:
    salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
    sealed = _box(passphrase, salt, opslimit, memlimit).encrypt(seed)
    return {"kdf": "argon2id", "opslimit": opslimit, "memlimit": memlimit,
            "salt": salt.hex(), "sealed_seed": sealed.hex()}


def open_seed(doc: dict[str, object], passphrase: bytes) -> bytes:
    opslimit, memlimit = int(doc["opslimit"]), int(doc["memlimit"])  # type: ignore[call-overload]
    # A file cannot make the node spend unbounded memory or time deriving a key.
    if doc.get("kdf") != "argon2id" or opslimit > _LIMITS_CAP[0] or memlimit > _LIMITS_CAP[1]:
        raise ValueError("unsupported or excessive key-derivation settings")
    box = _box(passphrase, bytes.fromhex(str(doc["salt"])), opslimit, memlimit)
    try:
        return box.decrypt(bytes.fromhex(str(doc["sealed_seed"])))
    except nacl.exceptions.CryptoError:
        raise WrongPassphrase("wrong passphrase (or the key file was altered)") from None
