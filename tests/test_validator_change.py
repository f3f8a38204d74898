"""A validator-set change by governance, on real processes: once in force, the new
powers decide finality (two of four validators down no longer halts the chain)."""

import pytest

from node.state import approve
from tests.helpers import event, org_key, wait_final
from tests.test_offline_site import Proc, register

pytestmark = pytest.mark.network

ADMINS = ("admin-1", "auditor-1")


def test_new_powers_take_over_after_the_documented_delay(tmp_path):
    from node.cli.devnet import plan_devnet
    from tests.helpers import free_port_base

    entries = plan_devnet(tmp_path, free_port_base(), full_nodes=0)
    nodes = [Proc(e) for e in entries]
    try:
        for n in nodes:
            n.start()
        rpc = nodes[0].rpc
        new_set = [{"name": e["name"], "org_id": e["org"], "node_key": e["node_key"],
                    "power": 40 if e["name"] == "validator-4" else 10} for e in entries]
        chain_id = rpc.call("chain_genesis")["chain_id"]
        body = {"validators": new_set}
        body["approvals"] = [approve(org_key(a), chain_id, "gov_set_validators", body)
                             for a in ADMINS]
        gov = event("admin-1", "gov_set_validators", body, nonce=7)
        result = wait_final(rpc, rpc.call("lot_submitEvent", event=gov.to_json())["tx_id"], 60)
        assert result["status"] == "final", result
        delay = rpc.call("chain_genesis")["params"]["validator_change_delay"]
        effective = result["height"] + delay

        for i in range(3):  # move the chain past the height where the new set takes over
            tx = register(200 + i, 200 + i)
            wait_final(rpc, rpc.call("lot_submitEvent", event=tx.to_json())["tx_id"], 60)
        assert rpc.call("chain_head")["height"] >= effective

        nodes[0].kill()
        nodes[1].kill()  # 20 of 70 power gone: under the old equal powers this would halt
        tx = register(300, 300)
        reply = nodes[2].rpc.call("lot_submitEvent", event=tx.to_json())
        assert wait_final(nodes[2].rpc, reply["tx_id"], 90)["status"] == "final"
        head = nodes[2].rpc.call("chain_head")["height"]
        block = nodes[2].rpc.call("block_get", height=head)
        signers = {s["validator"] for s in block["commit"]["signatures"]}
        assert signers == {entries[2]["node_key"], entries[3]["node_key"]}
    finally:
        for n in nodes:
            n.stop()
