"""Messages carried by a secret link: canonical msgpack `[channel, payload]`.

The p2p layer fixes the channels and the envelope; what a payload means on
each channel is the daemon's business. Request and response channels carry
`[request_id, body]` so answers can be matched to questions.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from node import codec
from node.p2p.errors import InvalidMessage

Payload = bytes | list[Any]
"""A channel payload: opaque bytes or a msgpack array of canonical values."""

MAX_REQUEST_ID = (1 << 63) - 1
# A protocol violation only a broken or hostile implementation commits.
MALFORMED_PENALTY = 100


class Channel(IntEnum):
    """What a message is for; also its send priority (see sendqueue.PRIORITY)."""

    PING = 0  # keepalive, handled inside the p2p layer
    TX = 1
    CONSENSUS = 2
    BLOCK = 3
    SYNC_REQUEST = 4
    SYNC_RESPONSE = 5
    HAVE = 6  # ids of relayed messages, offered (node.p2p.announce)
    WANT = 7  # ids asked for after a HAVE
    MUTE = 8  # the channels the sender asks not to be sent at all (once, at link-up)


MUTABLE_CHANNELS = frozenset({Channel.TX, Channel.CONSENSUS})
"""What a node may ask its peers not to send: relayed txs and consensus messages, which
a node that never proposes or votes can do without (it follows final blocks, which
carry the txs and the commit certificate that the votes would have made)."""


RESPONSE_CHANNEL = {Channel.SYNC_REQUEST: Channel.SYNC_RESPONSE}
"""Each request channel and the channel its answers come back on."""

REQUEST_RESPONSE_CHANNELS = frozenset(RESPONSE_CHANNEL) | frozenset(RESPONSE_CHANNEL.values())


def encode_message(channel: Channel, payload: Payload) -> bytes:
    """The plaintext of one link message.

    Refuses (TypeError) what the receiver would refuse, so a local mistake is
    not mistaken by the peer for misbehaviour.
    """
    _check_payload(payload)
    if channel in REQUEST_RESPONSE_CHANNELS:
        if len(payload) != 2 or type(payload[0]) is not int:
            raise TypeError("a request or response payload is [request_id, body]")
        _check_payload(payload[1])
    return codec.encode([int(channel), payload])


def _check_payload(payload: object) -> None:
    if not isinstance(payload, (bytes, list)):
        raise TypeError(f"a payload is bytes or a list, not {type(payload).__name__}")


def parse_mute(payload: Payload) -> frozenset[Channel]:
    """The channels a MUTE message names; InvalidMessage (malformed) unless it is an
    array of distinct MUTABLE_CHANNELS numbers."""
    mutable = isinstance(payload, list) and all(
        type(c) is int and c in Channel._value2member_map_ and Channel(c) in MUTABLE_CHANNELS
        for c in payload)
    if not mutable or len(set(payload)) != len(payload):
        raise InvalidMessage("a MUTE message is an array of distinct channel numbers, "
                             f"each of {sorted(MUTABLE_CHANNELS)}", MALFORMED_PENALTY)
    return frozenset(Channel(c) for c in payload)


def decode_message(plaintext: bytes, max_size: int) -> tuple[Channel, Payload]:
    """Parse and check one link message; InvalidMessage (malformed penalty) on any fault."""
    try:
        value = codec.decode(plaintext, max_size=max_size)
    except codec.CodecError as exc:
        raise InvalidMessage(f"undecodable message: {exc}", MALFORMED_PENALTY) from None
    if not isinstance(value, list) or len(value) != 2:
        raise InvalidMessage("a message is a [channel, payload] array", MALFORMED_PENALTY)
    raw_channel, payload = value
    if type(raw_channel) is not int or raw_channel not in Channel._value2member_map_:
        raise InvalidMessage(f"unknown channel {raw_channel!r}", MALFORMED_PENALTY)
    channel = Channel(raw_channel)
    if not isinstance(payload, (bytes, list)):
        raise InvalidMessage("a payload is bytes or an array", MALFORMED_PENALTY)
    if channel in REQUEST_RESPONSE_CHANNELS:
        split_request(payload)
    return channel, payload


def split_request(payload: Payload) -> tuple[int, Payload]:
    """`(request_id, body)` of a request or response payload."""
    if not isinstance(payload, list) or len(payload) != 2:
        raise InvalidMessage("a request or response is [request_id, body]", MALFORMED_PENALTY)
    request_id, body = payload
    if type(request_id) is not int or not 0 <= request_id <= MAX_REQUEST_ID:
        raise InvalidMessage(f"bad request id {request_id!r}", MALFORMED_PENALTY)
    if not isinstance(body, (bytes, list)):
        raise InvalidMessage("a request or response body is bytes or an array", MALFORMED_PENALTY)
    return request_id, body
