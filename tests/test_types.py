"""Transactions, headers, blocks, votes and commit certificates."""

import pytest

from node import codec
from node.crypto import PrivateKey
from node.merkle import merkle_root
from node.types import (
    PRECOMMIT,
    Block,
    Commit,
    CommitError,
    Header,
    Tx,
    TxFormatError,
    Validator,
    ValidatorSet,
    verify_commit,
)
from node.types.vote import vote_sign_bytes

KEY = PrivateKey(bytes(range(32)))


def make_tx(nonce=1, body=None):
    return Tx("c", "register_lot", body or {"lot_id": "L1", "mass_g": 5},
              KEY.public_key, nonce).signed(KEY)


def test_tx_round_trip_and_id():
    tx = make_tx()
    assert Tx.decode(tx.encoded) == tx
    assert Tx.from_json(tx.to_json()) == tx
    assert tx.tx_id != make_tx(nonce=2).tx_id


def test_tx_rejects_bad_shapes():
    with pytest.raises(TxFormatError, match="floats"):
        Tx.from_json({**make_tx().to_json(), "body": {"mass_g": 1.5}})
    with pytest.raises(TxFormatError, match="missing"):
        Tx.from_json({"chain_id": "c"})
    with pytest.raises(TxFormatError, match="unknown field"):
        Tx.from_json({**make_tx().to_json(), "extra": 1})
    with pytest.raises(TxFormatError, match="signer"):
        Tx("c", "assay", {}, b"short", 1)
    with pytest.raises(TxFormatError, match="6 fields"):
        Tx.decode(Tx("c", "assay", {}, KEY.public_key, 1).signing_bytes)
    from node import codec
    with pytest.raises(TxFormatError, match="not signed"):
        Tx.decode(codec.encode(["c", "assay", {}, KEY.public_key, 1, b""]))


def _validators(n):
    keys = [PrivateKey(bytes([i + 1]) * 32) for i in range(n)]
    return keys, ValidatorSet.of(Validator(f"v{i}", k.public_key, 10) for i, k in enumerate(keys))


def _commit(keys, height, block_hash, round_=0):
    msg = vote_sign_bytes("c", PRECOMMIT, height, round_, block_hash)
    return Commit(height, round_, block_hash, tuple((k.public_key, k.sign(msg)) for k in keys))


def test_commit_needs_more_than_two_thirds_of_power():
    keys, vs = _validators(4)
    h = b"\x07" * 32
    verify_commit(_commit(keys[:3], 5, h), "c", 5, h, vs)
    with pytest.raises(CommitError, match="more than 2/3"):
        verify_commit(_commit(keys[:2], 5, h), "c", 5, h, vs)


def test_commit_refuses_duplicates_strangers_and_forgeries():
    keys, vs = _validators(4)
    h = b"\x07" * 32
    good = _commit(keys[:3], 5, h)
    dup = Commit(5, 0, h, (*good.signatures, good.signatures[0]))
    with pytest.raises(CommitError, match="twice"):
        verify_commit(dup, "c", 5, h, vs)
    stranger = _commit([PrivateKey(b"\x99" * 32)], 5, h)
    with pytest.raises(CommitError, match="not a validator"):
        verify_commit(Commit(5, 0, h, good.signatures + stranger.signatures), "c", 5, h, vs)
    forged = Commit(5, 0, h, ((keys[0].public_key, bytes(64)), *good.signatures[1:]))
    with pytest.raises(CommitError, match="bad precommit"):
        verify_commit(forged, "c", 5, h, vs)
    with pytest.raises(CommitError, match="another block"):
        verify_commit(good, "c", 5, b"\x08" * 32, vs)
    with pytest.raises(CommitError, match="height"):
        verify_commit(good, "c", 6, h, vs)
    with pytest.raises(CommitError):  # signatures are bound to the chain id
        verify_commit(good, "other-chain", 5, h, vs)


def test_quorum_arithmetic_uses_power_not_counts():
    vs = ValidatorSet.of([Validator("a", b"a" * 32, 1), Validator("b", b"b" * 32, 1),
                          Validator("c", b"c" * 32, 1), Validator("d", b"d" * 32, 1),
                          Validator("e", b"e" * 32, 1)])
    assert not vs.has_quorum(3)  # 2f+1 with f=(n-1)//3 would wrongly say 3 of 5
    assert vs.has_quorum(4)
    assert vs.proposer(1, 0) != vs.proposer(1, 1)
    assert {vs.proposer(7, r).name for r in range(5)} == set("abcde")


def test_block_structure_checks_and_round_trip():
    txs = (make_tx(1), make_tx(2))
    header = Header("c", 1, 10, b"\x00" * 32, merkle_root([t.tx_id for t in txs]), 2,
                    b"\x01" * 32, b"\x02" * 32, KEY.public_key)
    block = Block(header, txs)
    assert Block.decode(block.encoded) == block
    assert block.structure_errors() == []
    lying = Block(Header(*[*header.fields()[:5], 3, *header.fields()[6:]]), txs)
    assert any("header says 3" in e for e in lying.structure_errors())
    swapped = Block(header, (txs[1], txs[0]))
    assert any("tx_root" in e for e in swapped.structure_errors())
    with pytest.raises(ValueError, match="malformed block"):
        Block.decode(block.encoded[:-1])


def test_block_decode_takes_known_txs_and_decodes_the_rest():
    txs = (make_tx(1), make_tx(2))
    header = Header("c", 1, 10, b"\x00" * 32, merkle_root([t.tx_id for t in txs]), 2,
                    b"\x01" * 32, b"\x02" * 32, KEY.public_key)
    data = Block(header, txs).encoded
    held = Tx.decode(txs[0].encoded)
    block = Block.decode(data, known={held.tx_id: held}.get)
    assert block.txs[0] is held
    assert block.txs[1] == txs[1] and block.txs[1] is not txs[1]
    assert block.tx_ids == [t.tx_id for t in txs]
    assert block.structure_errors() == []


def test_a_blocks_claimed_height_is_read_from_its_header_alone():
    txs = (make_tx(1),)
    header = Header("c", 70_000, 10, b"\x00" * 32, merkle_root([t.tx_id for t in txs]), 1,
                    b"\x01" * 32, b"\x02" * 32, KEY.public_key)
    data = Block(header, txs).encoded
    assert Block.claimed_height(data) == 70_000
    assert Block.claimed_height(data[:40]) == 70_000        # the txs are never read
    for junk in (b"", b"\x92", b"\xc1", data[:3], b"\x92\x93" + data[2:],
                 codec.encode([["c", "seventy", 10], []])):
        assert Block.claimed_height(junk) is None
