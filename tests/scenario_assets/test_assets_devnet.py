"""End to end on a real devnet (4 validator processes on loopback): a licensed mine's
ore is refined into cathode, tokenised, sold to two investors, partly redeemed and
exported with royalties; and the frauds are rejected or flagged on the record.

The asset queries are answered from a validator's own LevelDB store after the network
stops (node.rpc.assets over the daemon's Ledger), and their proofs are checked against
the headers; the exported cathode's lot_provenance answer still verifies offline.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from node.cli.client import RpcClient
from node.cli.compliance import fetch_dump, observations
from node.cli.devnet import plan_devnet
from node.daemon.ledger import Ledger
from node.lightclient.verify import verify_provenance
from node.merkle import verify_inclusion
from node.rpc.assets import AssetsApi
from node.store import BlockStore
from node.types.genesis import Genesis
from tests.assets.assetchain import DAY_MS, T0, asset_doc
from tests.helpers import NodeProcess, event, free_port_base, wait_final

pytestmark = pytest.mark.network

ORE, CATHODE = "PK-CU-2026-0001", "PK-CU-2026-0001-CATH"


class Net:
    def __init__(self, home: Path) -> None:
        self.home = home
        doc = asset_doc()
        doc["genesis_time_ms"] = int(time.time() * 1000) - 60_000
        (home / "genesis.json").write_text(json.dumps(doc))
        self.genesis = Genesis.from_json(doc)
        self.entries = plan_devnet(home, free_port_base(), full_nodes=0)
        self.nodes = []
        for e in self.entries:
            node = NodeProcess.__new__(NodeProcess)
            node.home, node.argv, node.proc = Path(e["home"]), e["argv"], None
            node.rpc_port, node.p2p_port = e["rpc_port"], e["p2p_port"]
            node.rpc = RpcClient(e["rpc_url"], timeout=10)
            self.nodes.append(node)
        self.nonce = int(time.time() * 1000)

    def send(self, org: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """Submit through a rotating node and wait until final; the result of tx_get."""
        self.nonce += 1
        tx = event(org, kind, body, nonce=self.nonce)
        node = self.nodes[self.nonce % len(self.nodes)]
        ack = node.rpc.call("lot_submitEvent", event=tx.to_json())
        return wait_final(node.rpc, ack["tx_id"], timeout=30)

    def ok(self, org: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        result = self.send(org, kind, body)
        assert result["status"] == "final", result.get("reason")
        return result

    def rejected(self, org: str, kind: str, body: dict[str, Any]) -> str:
        result = self.send(org, kind, body)
        assert result["status"] == "rejected", f"{kind} was accepted"
        reason: str = result["reason"]
        return reason


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Any:
    net = Net(tmp_path_factory.mktemp("assets"))
    for node in net.nodes:
        node.start(wait=False)
    for node in net.nodes:
        node.wait_ready()
    yield net
    for node in net.nodes:
        node.stop()


@pytest.fixture(scope="module")
def journey(net: Net) -> dict[str, str]:
    """The story both tests read: a licensed mine's ore refined into cathode, tokenised,
    sold to two investors, redeemed and exported with royalties, the frauds tried on the
    way. Returns each refused fraud's reason."""
    extracted = T0 - 3 * DAY_MS
    refused: dict[str, str] = {}
    net.ok("mine-1", "register_lot", {
        "lot_id": ORE, "mineral": "copper", "form": "ore", "mass_g": 1_000_000,
        "site_id": "mine-1-pit-a", "extracted_at_ms": extracted})
    net.ok("lab-1", "assay", {"lot_id": ORE, "composition": {"Cu": 250_000}})
    net.ok("mine-1", "dispatch", {"lot_id": ORE, "to_org": "refinery-1", "mass_g": 1_000_000,
                                  "carrier_org": "transporter-1"})
    net.ok("refinery-1", "receive", {"lot_id": ORE, "site_id": "refinery-1-qasim",
                                     "mass_g": 1_000_000})
    net.ok("refinery-1", "transform", {
        "site_id": "refinery-1-qasim", "inputs": [ORE],
        "outputs": [{"lot_id": CATHODE, "mineral": "copper", "form": "cathode",
                     "mass_g": 240_000, "composition": {"Cu": 999_900}}]})
    # Fraud: more units than the assays prove (239,976 g of Cu in the cathode).
    refused["over_tokenize"] = net.rejected("refinery-1", "tokenize", {
        "lot_id": CATHODE, "element": "Cu", "units": 240_000})
    net.ok("refinery-1", "tokenize", {"lot_id": CATHODE, "element": "Cu", "units": 200_000})
    for investor in ("investor-1", "investor-2"):
        net.ok("regulator-1", "attest", {"org_id": investor, "standard": "KYC",
                                         "finding": "identity and funds verified"})
    net.ok("refinery-1", "transfer_units", {"lot_id": CATHODE, "to_org": "investor-1",
                                            "units": 120_000})
    net.ok("refinery-1", "transfer_units", {"lot_id": CATHODE, "to_org": "investor-2",
                                            "units": 80_000})
    # Fraud: units of a held lot are frozen.
    net.ok("regulator-1", "hold", {"lot_id": CATHODE, "reason": "buyer screening"})
    refused["held_transfer"] = net.rejected("investor-1", "transfer_units", {
        "lot_id": CATHODE, "to_org": "investor-2", "units": 1})
    net.ok("regulator-1", "release", {"lot_id": CATHODE, "reason": "screening passed"})
    net.ok("investor-2", "redeem_units", {"lot_id": CATHODE, "units": 30_000})   # partial
    net.ok("refinery-1", "dispatch", {"lot_id": CATHODE, "to_org": "exporter-1",
                                      "mass_g": 240_000, "carrier_org": "transporter-1"})
    net.ok("exporter-1", "receive", {"lot_id": CATHODE, "site_id": "exporter-1-karachi",
                                     "mass_g": 240_000})
    export = {"lot_id": CATHODE, "destination": "CN", "buyer": "Jiangxi Copper",
              "permit_ref": "EXP/2026/118",
              "declared_value": {"amount": 2_150_000_00, "currency": "USD"}}
    # Fraud: exporting a lot with units outstanding.
    refused["export_outstanding"] = net.rejected("exporter-1", "export", export)
    net.ok("investor-1", "redeem_units", {"lot_id": CATHODE, "units": 120_000})
    net.ok("investor-2", "redeem_units", {"lot_id": CATHODE, "units": 50_000})
    net.ok("exporter-1", "export", export)
    # Fraud: a mine over its licensed annual capacity (50 t) is flagged.
    for i, mass_g in enumerate((45_000_000, 6_000_000)):
        net.ok("mine-1", "register_lot", {
            "lot_id": f"PK-CU-2026-01{i:02d}", "mineral": "copper", "form": "ore",
            "mass_g": mass_g, "site_id": "mine-1-pit-a", "extracted_at_ms": extracted})
    # An unlicensed mine is rejected on the record.
    refused["unlicensed"] = net.rejected("mine-2", "register_lot", {
        "lot_id": "PK-SB-2026-0001", "mineral": "antimony", "form": "ore", "mass_g": 1_000,
        "site_id": "mine-2-adit-1", "extracted_at_ms": extracted})
    return refused


def test_licensed_mine_to_tokenised_cathode_to_investors_to_export(
        net: Net, journey: dict[str, str]) -> None:
    assert journey["over_tokenize"].startswith(
        "tokenizing 240000 units (g of Cu) would put more metal in units")
    assert journey["held_transfer"].startswith(f"units of lot {CATHODE} are frozen")
    assert "170000 units of Cu outstanding" in journey["export_outstanding"]
    assert journey["unlicensed"].startswith("mine-2 has no valid licence for register_lot")
    answer = net.nodes[0].rpc.call("lot_provenance", lot_id=CATHODE, direction="backward")
    report = verify_provenance(answer, net.genesis)
    assert report.lots == 2
    # The offline compliance report reads the same chain over RPC.
    dump = fetch_dump(net.nodes[1].rpc, 0, 2**53)
    recovery = [o for o in observations(dump) if o.metric == "recovery:Cu"]
    assert [(o.lot_id, o.value_ppm) for o in recovery] == [(CATHODE, 959_904)]


@pytest.mark.usefixtures("journey")
def test_asset_queries_answer_from_the_store_with_proofs(net: Net) -> None:
    head = net.nodes[0].rpc.call("chain_head")["height"]
    for node in net.nodes:
        node.stop()
    store = BlockStore(net.nodes[0].home / "data" / "chain")
    try:
        api = AssetsApi(SimpleNamespace(ledger=Ledger(store, net.genesis)))
        holders = asyncio.run(api.units_holders({"lot_id": CATHODE}))
        assert (holders["supply"], holders["holders"]) == (0, {})
        kinds = [e["tx"]["kind"] for e in holders["events"]]
        assert kinds == ["tokenize", "transfer_units", "transfer_units", "redeem_units",
                         "redeem_units", "redeem_units"]
        for e in holders["events"]:
            header = holders["blocks"][str(e["height"])]["header"]
            assert verify_inclusion(bytes.fromhex(e["tx_id"]), e["index"], header["tx_count"],
                                    [bytes.fromhex(p) for p in e["proof"]],
                                    bytes.fromhex(header["tx_root"]))
            assert e["height"] <= head
        balance = asyncio.run(api.units_balance({"org_id": "investor-1", "lot_id": CATHODE}))
        assert balance["balances"] == {CATHODE: 0}
        assert any(e["tx"]["kind"] == "attest" for e in balance["events"])  # the KYC
        report = asyncio.run(api.royalty_report({"from_ms": 0, "to_ms": 2**53,
                                                 "mineral": "copper"}))
        usd = report["totals"]["USD"]
        assert {b: line["amount"] for b, line in usd.items()} == {
            "federal": 4_300_000, "balochistan": 5_375_000, "chagai-district-fund": 1_075_000}
        [export] = report["exports"]
        assert usd["federal"]["exports"] == [export["tx_id"]]
        flags = asyncio.run(api.compliance_flags({"org_id": "mine-1"}))["flags"]
        assert [(f["rule"], f["lot_id"]) for f in flags] == [("over_capacity",
                                                               "PK-CU-2026-0101")]
    finally:
        store.close()
