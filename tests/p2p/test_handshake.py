"""Handshake: message parsing, key agreement, authentication, refusal and timeouts."""

from __future__ import annotations

import asyncio
import contextlib
import os

import nacl.public
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.p2p.errors import HandshakeError, InvalidMessage, LinkClosed, PeerRefused
from node.p2p.handshake import (
    AUTH_SIZE,
    HELLO_SIZE,
    PROTOCOL_VERSION,
    Hello,
    auth_message,
    chain_tag,
    derive_session,
    handshake,
    transcript_hash,
    verify_auth,
)
from node.p2p.link import SecretLink
from node.p2p.message import Channel, decode_message, encode_message

from .helpers import CHAIN, HOST, KEYS, OUTSIDER, REGISTRY

TAG = chain_tag(CHAIN)


def fresh_hello() -> tuple[bytes, Hello]:
    secret = nacl.public.PrivateKey.generate()
    return bytes(secret), Hello(PROTOCOL_VERSION, TAG, bytes(secret.public_key))


def test_hello_layout_is_fixed() -> None:
    _, hello = fresh_hello()
    wire = hello.encode()
    assert len(wire) == HELLO_SIZE == 70
    assert wire[:4] == b"orep"
    assert wire[4:6] == PROTOCOL_VERSION.to_bytes(2, "big")
    assert wire[6:38] == TAG
    assert wire[38:] == hello.ephemeral_key
    assert Hello.parse(wire) == hello


def test_both_sides_derive_mirrored_keys() -> None:
    secret_a, hello_a = fresh_hello()
    secret_b, hello_b = fresh_hello()
    a = derive_session(secret_a, hello_a, hello_b)
    b = derive_session(secret_b, hello_b, hello_a)
    assert a.transcript == b.transcript
    assert a.send_key == b.recv_key and a.recv_key == b.send_key
    assert a.send_key != a.recv_key  # one key per direction


def test_transcript_binds_version_chain_and_both_ephemeral_keys() -> None:
    e1, e2 = os.urandom(32), os.urandom(32)
    base = transcript_hash(1, TAG, e1, e2)
    assert transcript_hash(1, TAG, e2, e1) == base
    assert transcript_hash(2, TAG, e1, e2) != base
    assert transcript_hash(1, chain_tag("other"), e1, e2) != base
    assert transcript_hash(1, TAG, e1, os.urandom(32)) != base


def test_session_refuses_other_chain_version_reflection_and_weak_keys() -> None:
    secret, hello = fresh_hello()
    _, other = fresh_hello()
    with pytest.raises(HandshakeError, match="different chain"):
        derive_session(secret, hello, Hello(PROTOCOL_VERSION, chain_tag("x"), other.ephemeral_key))
    with pytest.raises(HandshakeError, match="version"):
        derive_session(secret, hello, Hello(PROTOCOL_VERSION + 1, TAG, other.ephemeral_key))
    with pytest.raises(HandshakeError, match="echoed"):
        derive_session(secret, hello, hello)
    with pytest.raises(HandshakeError, match="weak"):
        derive_session(secret, hello, Hello(PROTOCOL_VERSION, TAG, bytes(32)))


def test_auth_proves_the_node_key_for_this_transcript_only() -> None:
    transcript = os.urandom(32)
    auth = auth_message(KEYS[0], transcript)
    assert len(auth) == AUTH_SIZE
    assert verify_auth(auth, transcript) == KEYS[0].public_key
    with pytest.raises(HandshakeError, match="signature"):
        verify_auth(auth, os.urandom(32))  # replayed from another session
    forged = KEYS[1].public_key + auth[32:]
    with pytest.raises(HandshakeError, match="signature"):
        verify_auth(forged, transcript)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_handshake_parsers(data: bytes) -> None:
    """Random bytes give a parsed value or HandshakeError, never anything else."""
    secret, own = fresh_hello()
    with contextlib.suppress(HandshakeError):
        derive_session(secret, own, Hello.parse(data))
    with pytest.raises(HandshakeError):
        verify_auth(data, os.urandom(32))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_message_decoder(data: bytes) -> None:
    try:
        channel, payload = decode_message(data, max_size=1024)
    except InvalidMessage:
        return
    assert encode_message(channel, payload) == data


def test_message_decoder_refuses_malformed_envelopes() -> None:
    from node import codec

    for bad in (
        [9, b""],
        [1],
        [1, 5],
        ["1", b""],
        [Channel.SYNC_REQUEST, [b"id", b""]],
        [Channel.SYNC_RESPONSE, [-1, b""]],
        [Channel.SYNC_REQUEST, b"x"],
    ):
        with pytest.raises(InvalidMessage) as info:
            decode_message(codec.encode(bad), max_size=1024)
        assert info.value.penalty == 100


async def _pair(key_a, key_b, authorize_a=None, authorize_b=None):
    """Handshake two ends over a real loopback connection; returns both outcomes."""
    accepted: asyncio.Future = asyncio.get_running_loop().create_future()

    async def on_connect(reader, writer):
        try:
            link = await handshake(
                reader,
                writer,
                node_key=key_b,
                chain_id=CHAIN,
                authorize=authorize_b or allow,
                outbound=False,
                timeout=2,
            )
            accepted.set_result(link)
        except HandshakeError as exc:
            accepted.set_result(exc)

    server = await asyncio.start_server(on_connect, HOST, 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        dialled: SecretLink | HandshakeError = await handshake(
            reader,
            writer,
            node_key=key_a,
            chain_id=CHAIN,
            authorize=authorize_a or allow,
            outbound=True,
            timeout=2,
        )
    except HandshakeError as exc:
        dialled = exc
    result = dialled, await accepted
    server.close()
    await server.wait_closed()
    return result


def allow(key: bytes) -> str | None:
    return None if key in REGISTRY else "not registered"


def test_handshake_links_two_nodes_both_ways() -> None:
    async def scenario():
        a, b = await _pair(KEYS[0], KEYS[1])
        assert isinstance(a, SecretLink) and isinstance(b, SecretLink)
        assert a.remote_key == KEYS[1].public_key and b.remote_key == KEYS[0].public_key
        assert a.outbound and not b.outbound
        await a.send(b"from a")
        await b.send(b"from b")
        assert await b.recv() == b"from a"
        assert await a.recv() == b"from b"
        await a.close()
        with pytest.raises(LinkClosed, match="goodbye"):
            await b.recv()
        await b.close()

    asyncio.run(scenario())


def test_messages_written_together_arrive_as_separate_frames_in_order() -> None:
    async def scenario():
        a, b = await _pair(KEYS[0], KEYS[1])
        assert isinstance(a, SecretLink) and isinstance(b, SecretLink)
        messages = [bytes([n]) * (n * 997 + 1) for n in range(40)]
        await a.send_many(messages)
        await a.send(b"after")
        assert [await b.recv() for _ in range(41)] == [*messages, b"after"]
        assert a.sent_bytes == b.received_bytes
        with pytest.raises(ValueError, match="never empty"):
            await a.send_many([b"x", b""])
        await a.close()
        await b.close()

    asyncio.run(scenario())


def test_unregistered_key_is_refused_during_handshake() -> None:
    async def scenario():
        dialled, accepted = await _pair(OUTSIDER, KEYS[1])
        assert isinstance(accepted, PeerRefused)
        assert accepted.node_key == OUTSIDER.public_key
        # The outsider learns it was refused before any link exists.
        assert isinstance(dialled, HandshakeError)
        assert "did not confirm" in str(dialled)

    asyncio.run(scenario())


def test_handshake_times_out_on_a_silent_peer() -> None:
    async def scenario():
        async def silent(reader, writer):
            await asyncio.sleep(5)

        server = await asyncio.start_server(silent, HOST, 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection(HOST, port)
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(HandshakeError, match=r"within 0\.3 s"):
            await handshake(
                reader,
                writer,
                node_key=KEYS[0],
                chain_id=CHAIN,
                authorize=allow,
                outbound=True,
                timeout=0.3,
            )
        assert loop.time() - started < 1.0
        assert writer.is_closing()
        server.close()

    asyncio.run(scenario())
