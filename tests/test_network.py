"""A network of real daemon processes on loopback: 4 validators and a mine-site full node.

Events submitted to different nodes become final in the same order everywhere; the
chain survives one validator being killed; a second kill halts finality without losing
anything acknowledged; restarted validators catch up and finality resumes; an
unregistered node cannot connect.
"""

import json
import time

import pytest

from node.cli.client import RpcCallError
from node.cli.devnet import plan_devnet
from tests.helpers import NodeProcess, event, free_port_base, wait_final

pytestmark = pytest.mark.network


def lot(i: int) -> dict:
    return {"lot_id": f"PK-RE-2026-{i:04d}", "mineral": "rare_earth", "form": "ore",
            "mass_g": 1_000_000 + i, "site_id": "mine-3-pit-1",
            "extracted_at_ms": 1_795_200_000_000 + i}


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    home = tmp_path_factory.mktemp("net")
    entries = plan_devnet(home, free_port_base(), full_nodes=1)
    nodes = []
    for e in entries:
        n = NodeProcess.__new__(NodeProcess)
        n.home = __import__("pathlib").Path(e["home"])
        n.rpc_port, n.p2p_port = e["rpc_port"], e["p2p_port"]
        n.argv = e["argv"]
        n.proc = None
        from node.cli.client import RpcClient
        n.rpc = RpcClient(e["rpc_url"], timeout=10)
        nodes.append(n)
    for n in nodes:
        n.start(wait=False)
    for n in nodes:
        n.wait_ready()
    yield home, nodes
    for n in nodes:
        n.stop()


def heads(nodes):
    return {n.rpc.call("chain_head")["hash"] for n in nodes}


def wait_same_head(nodes, min_height, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        hs = [n.rpc.call("chain_head") for n in nodes]
        if len({h["hash"] for h in hs}) == 1 and hs[0]["height"] >= min_height:
            return hs[0]
        time.sleep(0.2)
    raise AssertionError(f"nodes did not converge: {hs}")


def test_events_to_different_nodes_end_final_in_one_order_everywhere(net):
    _, nodes = net
    acked = []
    for i in range(12):
        tx = event("mine-3", "register_lot", lot(i), nonce=i + 1)
        acked.append(nodes[i % len(nodes)].rpc.call("lot_submitEvent", event=tx.to_json()))
    for a in acked:
        assert wait_final(nodes[0].rpc, a["tx_id"], timeout=30)["status"] == "final"
    head = wait_same_head(nodes, 1)
    for n in nodes:
        for a in acked:
            assert n.rpc.call("tx_get", tx_id=a["tx_id"])["status"] == "final"
    block = nodes[-1].rpc.call("block_get", height=head["height"])
    assert len(block["commit"]["signatures"]) >= 3  # > 2/3 of 4 equal-power validators
    # Traffic is counted per link and in total (links that closed stay in the total).
    status = nodes[-1].rpc.call("node_status")
    assert status["p2p_bytes"]["sent"] >= sum(p["sent_bytes"] for p in status["peers"]) > 0
    assert status["p2p_bytes"]["received"] >= sum(p["received_bytes"]
                                                  for p in status["peers"]) > 0
    # Every validator checked the 12 events' signatures (and votes) and met them again
    # from its cache when the blocks carrying them were applied.
    for n in nodes[:4]:
        counts = n.rpc.call("node_status")["signatures"]
        assert counts["verified"] >= 12 and counts["cache_hits"] > 0


def test_a_mine_site_node_takes_no_relayed_events_nor_votes_and_follows_every_block(net):
    _, nodes = net
    validator, site = nodes[0], nodes[-1]
    for setting in ("tx_relay", "consensus_relay"):
        assert site.rpc.call("node_status")[setting] is False     # devnet's full nodes
        assert validator.rpc.call("node_status")[setting] is True
    start = site.rpc.call("chain_head")["height"]
    before = {n: n.rpc.call("node_status")["signatures"]["verified"] for n in (validator, site)}
    # One batch, so the events span few heights (and few votes).
    acked = validator.rpc.batch([("lot_submitEvent", {"event": event(
        "mine-3", "register_lot", lot(200 + i), nonce=200 + i).to_json()}) for i in range(150)])
    for a in acked:
        assert wait_final(validator.rpc, a["tx_id"], timeout=60)["status"] == "final"
    head = validator.rpc.call("chain_head")["height"]
    wait_same_head([validator, site], head)
    for a in acked:      # unknown to the site node until final: it holds no one else's
        assert site.rpc.call("tx_get", tx_id=a["tx_id"])["status"] == "final"
    unknown = event("mine-3", "register_lot", lot(401), nonce=401)
    with pytest.raises(RpcCallError, match="tx_relay = false"):
        site.rpc.call("tx_get", tx_id=unknown.tx_id.hex())
    after = {n: n.rpc.call("node_status")["signatures"]["verified"] for n in (validator, site)}
    end = site.rpc.call("chain_head")["height"]
    # The validator checked each event's signature; the site node never received the
    # events on their own, nor the votes: only final blocks, so it checked the commit
    # certificates alone, at most one precommit per validator a height (receiving the
    # votes, it checked every prevote and precommit and the proposal: 9 a height).
    assert after[validator] - before[validator] >= 150
    assert 0 < after[site] - before[site] <= 4 * (end - start)
    # Its own events still go out and become final everywhere.
    own = site.rpc.call("lot_submitEvent", event=event(
        "mine-3", "register_lot", lot(400), nonce=400).to_json())
    assert wait_final(site.rpc, own["tx_id"], timeout=30)["status"] == "final"
    assert validator.rpc.call("tx_get", tx_id=own["tx_id"])["status"] == "final"


def test_one_validator_down_chain_goes_on_two_down_it_halts_restart_catches_up(net):
    _, nodes = net
    validators = nodes[:4]
    validators[3].kill()
    tx = event("mine-3", "register_lot", lot(100), nonce=100)
    reply = validators[0].rpc.call("lot_submitEvent", event=tx.to_json())
    assert wait_final(validators[0].rpc, reply["tx_id"], timeout=30)["status"] == "final"

    validators[2].kill()
    stalled = event("mine-3", "register_lot", lot(101), nonce=101)
    reply = validators[1].rpc.call("lot_submitEvent", event=stalled.to_json())
    time.sleep(4)
    assert validators[1].rpc.call("tx_get", tx_id=reply["tx_id"])["status"] == "pending"

    validators[2].start()
    validators[3].start()
    assert wait_final(validators[0].rpc, reply["tx_id"], timeout=60)["status"] == "final"
    wait_same_head(nodes, 1, timeout=60)


def test_unregistered_node_cannot_connect(net, tmp_path):
    home, nodes = net
    genesis = home / "genesis.json"
    stranger = NodeProcess(tmp_path / "stranger", genesis, "not-in-registry",
                           peers=[f"127.0.0.1:{nodes[0].p2p_port}"]).start()
    try:
        time.sleep(3)
        status = stranger.rpc.call("node_status")
        assert status["peers"] == []
        assert status["p2p_bytes"] == {"sent": 0, "received": 0}   # refused at handshake
        assert status["height"] == 0
        node_ids = {p["node_id"] for p in nodes[0].rpc.call("node_status")["peers"]}
        assert status["node_id"] not in node_ids
    finally:
        stranger.stop()
    assert json.loads((home / "devnet.json").read_text()) if (home / "devnet.json").exists() \
        else True
