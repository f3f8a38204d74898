"""A Byzantine validator equivocates at live validators: they keep the two votes as
evidence and put it on chain, where every node sees it recorded."""

import asyncio
import time

import pytest

from node import codec
from node.daemon.bft import VOTE_MSG
from node.p2p import Channel, PeerAddress, PeerManager
from node.types import PREVOTE, Vote
from node.types.vote import vote_sign_bytes
from tests.helpers import free_port_base, node_key
from tests.test_offline_site import Proc

pytestmark = pytest.mark.network


async def equivocate(target: PeerAddress, chain_id: str, height: int, allowed: set[bytes]):
    key = node_key("validator-4")
    manager = PeerManager(key, chain_id, allowed, dial=[target])
    await manager.start()
    try:
        for _ in range(100):
            if manager.peers():
                break
            await asyncio.sleep(0.1)
        assert manager.peers(), "the Byzantine validator could not link to validator-1"
        for block_hash in (b"\x0a" * 32, b"\x0b" * 32):
            sig = key.sign(vote_sign_bytes(chain_id, PREVOTE, height, 0, block_hash))
            vote = Vote(chain_id, PREVOTE, height, 0, block_hash, key.public_key, sig)
            manager.broadcast(Channel.CONSENSUS, [VOTE_MSG, vote.to_wire()])
        await asyncio.sleep(1.0)
    finally:
        await manager.stop()


def test_equivocation_ends_up_on_chain(tmp_path):
    from node.cli.devnet import plan_devnet

    entries = plan_devnet(tmp_path, free_port_base(), full_nodes=0)
    honest = [Proc(e) for e in entries[:3]]  # 30 of 40 power: enough to finalise
    try:
        for n in honest:
            n.start()
        genesis = honest[0].rpc.call("chain_genesis")
        allowed = {bytes.fromhex(n["node_key"]) for n in genesis["nodes"]}
        height = honest[0].rpc.call("chain_head")["height"] + 1
        target = PeerAddress.parse(entries[0]["p2p"])
        asyncio.run(equivocate(target, genesis["chain_id"], height, allowed))

        deadline = time.monotonic() + 60
        reports: list[dict] = []
        while not any(r["status"] == "final" for r in reports):
            assert time.monotonic() < deadline, f"no evidence accepted on chain: {reports}"
            time.sleep(0.3)
            head = honest[1].rpc.call("chain_head")["height"]
            reports = [tx for h in range(1, head + 1)
                       for tx_id in honest[1].rpc.call("block_get", height=h)["tx_ids"]
                       if (tx := honest[1].rpc.call("tx_get", tx_id=tx_id))["tx"]["kind"]
                       == "report_equivocation"]
        # Every honest node that saw both votes reports them; the chain records the fault
        # once and keeps the other reports as rejected duplicates.
        assert sum(r["status"] == "final" for r in reports) == 1
        assert all("already on record" in r["reason"] for r in reports
                   if r["status"] == "rejected")
        found = next(r for r in reports if r["status"] == "final")
        votes = [Vote.from_wire(codec.decode(bytes.fromhex(found["tx"]["body"][k])))
                 for k in ("first", "second")]
        assert {v.validator for v in votes} == {node_key("validator-4").public_key}
        assert {v.block_hash for v in votes} == {b"\x0a" * 32, b"\x0b" * 32}
    finally:
        for n in honest:
            n.stop()
