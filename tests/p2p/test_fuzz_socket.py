"""Hostile bytes at a live node: at every handshake stage and on an open link."""

from __future__ import annotations

import asyncio
import random

from node.p2p import Channel
from node.p2p.handshake import HELLO_SIZE

from .helpers import KEYS, address_of, eventually, manager, raw_connect

ROUNDS = 40


def junk(rng: random.Random) -> bytes:
    return rng.randbytes(rng.choice([1, 4, 69, 70, 71, 200, 5000]))


def test_random_bytes_never_break_a_node() -> None:
    async def scenario():
        rng = random.Random(20240607)
        a = manager(KEYS[0])
        inbox: list[bytes] = []

        async def record(sender, payload):
            inbox.append(payload)

        a.on_message(Channel.TX, record)
        await a.start()
        address = address_of(a)
        for i in range(ROUNDS):
            reader, writer = await asyncio.open_connection(address.host, address.port)
            stage = i % 3
            if stage == 0:  # garbage instead of a Hello
                writer.write(junk(rng))
            elif stage == 1:  # a valid-looking Hello prefix, then garbage
                writer.write(b"orep\x00\x01" + rng.randbytes(HELLO_SIZE - 6) + junk(rng))
            else:  # an authenticated link, then garbage frames
                raw = await raw_connect(address, KEYS[1])
                reader, writer = raw.reader, raw.writer
                writer.write(junk(rng))
            writer.write_eof()
            async with asyncio.timeout(3):  # no hang: a closes every one of them
                try:
                    while await reader.read(65536):
                        pass
                except ConnectionResetError:
                    pass
            writer.close()
        await eventually(lambda: not a.peers())
        assert inbox == []
        # Still serving honest peers afterwards.
        b = manager(KEYS[2], dial=(address,))
        await b.start()
        await eventually(lambda: a.is_connected(b.node_id))
        b.broadcast(Channel.TX, b"honest")
        await eventually(lambda: inbox == [b"honest"])
        await b.stop()
        await a.stop()

    asyncio.run(scenario())
