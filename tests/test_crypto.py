"""Ed25519 keys, key files and the verified-signature cache."""

import json
import stat

import pytest

from node.crypto import (
    KeyFileError,
    PrivateKey,
    VerifiedCache,
    devnet_key,
    load_key_file,
    verify,
    write_key_file,
)


def test_sign_and_verify_and_tamper():
    key = PrivateKey.generate()
    sig = key.sign(b"lot PK-CU-1")
    assert verify(key.public_key, b"lot PK-CU-1", sig)
    assert not verify(key.public_key, b"lot PK-CU-2", sig)
    flipped = bytes([sig[0] ^ 1]) + sig[1:]
    assert not verify(key.public_key, b"lot PK-CU-1", flipped)
    assert not verify(key.public_key[:31], b"lot PK-CU-1", sig)
    assert not verify(b"\x00" * 32, b"lot PK-CU-1", sig)


def test_devnet_key_is_sha256_of_label():
    import hashlib

    key = devnet_key("orechain-devnet:mine-1")
    assert key.seed == hashlib.sha256(b"orechain-devnet:mine-1").digest()


def test_key_file_is_owner_only_and_round_trips(tmp_path):
    path = tmp_path / "k.key"
    key = PrivateKey.generate()
    write_key_file(path, key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key_file(path) == key
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        write_key_file(path, PrivateKey.generate())


def test_key_file_errors_are_clear(tmp_path):
    with pytest.raises(KeyFileError, match="no key file"):
        load_key_file(tmp_path / "missing.key")
    bad = tmp_path / "bad.key"
    bad.write_text("{not json")
    with pytest.raises(KeyFileError, match="not readable JSON"):
        load_key_file(bad)
    wrong = tmp_path / "wrong.key"
    key = PrivateKey.generate()
    wrong.write_text(json.dumps({"type": "ed25519", "seed": key.seed.hex(),
                                 "public_key": "00" * 32}))
    with pytest.raises(KeyFileError, match="does not match"):
        load_key_file(wrong)


def test_cache_keeps_successes_only():
    key = PrivateKey.generate()
    cache = VerifiedCache(capacity=2)
    sig = key.sign(b"m")
    assert cache.verify(key.public_key, b"m", sig)
    assert cache.verify(key.public_key, b"m", sig)
    assert cache.hits == 1 and cache.verified == 1
    bad = bytes(64)
    assert not cache.verify(key.public_key, b"m", bad)
    assert not cache.verify(key.public_key, b"m", bad)
    assert cache.hits == 1 and cache.verified == 3      # a failure is checked each time


def test_cache_keyed_by_an_item_id_hits_by_id_and_apart_from_hash_keys():
    key = PrivateKey.generate()
    cache = VerifiedCache()
    sig = key.sign(b"m")
    tx_id = b"\x07" * 32            # an id the caller vouches commits to key, message, sig
    assert cache.verify_many([(key.public_key, b"m", sig)], [tx_id]) == [True]
    assert cache.verify(key.public_key, b"m", sig, tx_id)
    assert (cache.hits, cache.verified) == (1, 1)
    # The same triple without its id is a different key: verified afresh, then a hit.
    assert cache.verify(key.public_key, b"m", sig)
    assert (cache.hits, cache.verified) == (1, 2)
    # A failure is not kept under an id either. (An id is trusted to commit to its
    # triple, so callers derive it from them: a tx id hashes the signed tx.)
    forged = bytes(64)
    assert cache.verify_many([(key.public_key, b"m", forged)], [b"\x08" * 32]) == [False]
    assert not cache.verify(key.public_key, b"m", forged, b"\x08" * 32)
    assert cache.verified == 4
    # Items with and without ids mix in one call.
    other = key.sign(b"n")
    assert cache.verify_many([(key.public_key, b"n", other), (key.public_key, b"m", sig)],
                             [None, tx_id]) == [True, True]
    assert (cache.hits, cache.verified) == (2, 5)
