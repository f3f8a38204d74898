"""Ed25519 keys (pynacl): signing, verifying, key files, and a cache of verified signatures."""

from node.crypto.batch import SignedItem, verify_many
from node.crypto.keys import (
    KeyFileError,
    PrivateKey,
    devnet_key,
    load_key_file,
    verify,
    write_key_file,
)
from node.crypto.sigcache import VerifiedCache

__all__ = [
    "KeyFileError",
    "PrivateKey",
    "SignedItem",
    "VerifiedCache",
    "devnet_key",
    "load_key_file",
    "verify",
    "verify_many",
    "write_key_file",
]
