"""Hostile bytes into every decoder a peer or a disk can reach.

Each decoder either returns a value that re-encodes to exactly the input, or
raises its documented error (CodecError / TxFormatError / ValueError); nothing
else escapes, and nothing is slow. Inputs: arbitrary bytes, msgpack of arbitrary
values (floats, int map keys, huge ints, deep nesting), and mutations of genuine
encodings (a real tx, block, vote, proposal and commit).
"""

from __future__ import annotations

import time

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from node import codec
from node.crypto import devnet_key
from node.merkle import merkle_root
from node.types import (
    PRECOMMIT,
    PREVOTE,
    Block,
    Commit,
    Header,
    Proposal,
    Tx,
    TxFormatError,
    Vote,
)
from node.types.vote import vote_sign_bytes
from tests.fuzz.budget import FUZZ
from tests.fuzz.strategies import mutated, packed, values

KEY = devnet_key("fuzz-validator")
TX = Tx("orechain-devnet-1", "register_lot",
        {"lot_id": "PK-SB-1", "mass_g": 5, "documents": ["ab" * 32]},
        KEY.public_key, 7).signed(KEY)
HEADER = Header("orechain-devnet-1", 3, 1_795_200_000_000, b"\x01" * 32,
                merkle_root([TX.tx_id]), 1, b"\x02" * 32, b"\x03" * 32, KEY.public_key)
BLOCK = Block(HEADER, (TX,))
VOTE = Vote("orechain-devnet-1", PREVOTE, 3, 0, BLOCK.hash, KEY.public_key,
            KEY.sign(vote_sign_bytes("orechain-devnet-1", PREVOTE, 3, 0, BLOCK.hash)))
PROPOSAL = Proposal("orechain-devnet-1", 3, 1, 0, BLOCK.hash, KEY.public_key, b"\x09" * 64)
COMMIT = Commit(3, 0, BLOCK.hash, ((KEY.public_key, VOTE.signature),))
GENUINE = [TX.encoded, BLOCK.encoded, codec.encode(VOTE.to_wire()),
           codec.encode(PROPOSAL.to_wire()), codec.encode(COMMIT.to_wire())]

hostile = st.one_of(st.binary(max_size=512), values.map(packed),
                    st.sampled_from(GENUINE).flatmap(mutated))


def _decode_all(data: bytes) -> None:
    """Run every decoder; each must succeed canonically or raise its own error."""
    try:
        value = codec.decode(data)
    except codec.CodecError:
        value = None
    else:
        assert codec.encode(value) == data  # one value, one encoding
    try:
        tx = Tx.decode(data)
    except TxFormatError:
        pass
    else:
        assert tx.encoded == data
    try:
        block = Block.decode(data)
    except ValueError:
        pass
    else:
        assert block.encoded == data
    for cls in (Vote, Proposal, Commit):
        try:
            message = cls.from_wire(value)
        except ValueError:
            continue
        assert codec.encode(message.to_wire()) == data


@FUZZ
@given(hostile)
def test_decoders_accept_only_canonical_input_and_raise_only_their_errors(data) -> None:
    started = time.monotonic()
    _decode_all(data)
    assert time.monotonic() - started < 1.0, "a decoder took over a second on small input"


@pytest.mark.parametrize("depth", [17, 100, 10_000, 100_000])
def test_deep_nesting_is_refused_quickly(depth: int) -> None:
    data = b"\x91" * depth + b"\xc0"  # [[[...nil...]]]
    started = time.monotonic()
    with pytest.raises(codec.CodecError):
        codec.decode(data)
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("header", [b"\xdd\xff\xff\xff\xff", b"\xdf\xff\xff\xff\xff",
                                    b"\xc6\xff\xff\xff\xff", b"\xdb\xff\xff\xff\xff"])
def test_announced_huge_lengths_are_refused_without_allocating(header: bytes) -> None:
    """An array, map, bin or str header announcing 4 GiB, followed by nothing."""
    with pytest.raises(codec.CodecError):
        codec.decode(header + b"\x00" * 16)


def test_over_size_input_is_refused_before_parsing() -> None:
    with pytest.raises(codec.CodecError, match="over the limit"):
        codec.decode(b"\xc0" * (codec.DEFAULT_MAX_SIZE + 1))
    with pytest.raises(TxFormatError):
        Tx.decode(packed(["c", "k", {}, b"\x00" * 32, 1, b"\x00" * 64, "x" * 70_000]))


@pytest.mark.parametrize("vote_type", [True, False, "1",
                                       PRECOMMIT + 1, -1, b"\x01"])
def test_vote_type_must_be_the_integer_prevote_or_precommit(vote_type) -> None:
    """What a canonical decode can deliver in the type field (bools, text, bytes, ints)."""
    wire = VOTE.to_wire()
    wire[1] = vote_type
    with pytest.raises(ValueError):
        Vote.from_wire(wire)


def test_non_canonical_integer_widths_are_refused() -> None:
    """5 as uint32 is valid msgpack but not the canonical (fixint) encoding."""
    assert msgpack.unpackb(b"\xce\x00\x00\x00\x05") == 5
    with pytest.raises(codec.CodecError, match="not canonical"):
        codec.decode(b"\xce\x00\x00\x00\x05")
