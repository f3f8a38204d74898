"""The lot lifecycle on a real devnet (4 validator processes and a mine-site full node):
three mines to transporter, lab, refinery (merge, transform, split), exporter and
export; every fraud refused with its reason; the exported lot's provenance verified
offline by `orechain verify`, and refused after any byte of it is flipped."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from node.cli.client import RpcCallError, RpcClient
from node.cli.devnet import plan_devnet
from node.crypto import PrivateKey
from node.lightclient import verify_provenance
from node.state import approve
from node.types import Tx
from node.types.genesis import Genesis
from tests.helpers import NodeProcess, event, free_port_base, org_key, wait_final
from tests.lightclient.tamper import default_stride, flip_all, sample_positions

pytestmark = pytest.mark.network

CU1, CU2, SB, RE = "PK-CU-2026-0201", "PK-CU-2026-0202", "PK-SB-2026-0201", "PK-RE-2026-0201"
CUM, CATH, SBC, REO = "PK-CU-2026-0203-M", "PK-CU-2026-0204-K", "PK-SB-2026-0202-C", \
    "PK-RE-2026-0202-O"
EXP, KEEP = "PK-CU-2026-0204-K1", "PK-CU-2026-0204-K2"
AUDIT_KEY = PrivateKey(b"\x21" * 32)     # a second auditor-1 key, added then revoked
ADMINS = ("admin-1", "auditor-1")         # two of the three devnet admin keys


class Devnet:
    """The running network and a nonce counter, so every event is a new tx."""

    def __init__(self, home: Path, nodes: list[NodeProcess]) -> None:
        self.home, self.nodes = home, nodes
        self.genesis = Genesis.from_json(json.loads((home / "genesis.json").read_text()))
        self.full = nodes[-1].rpc          # the mine-site full node
        self.validator = nodes[0].rpc
        self._nonce = 1000

    def tx(self, org: str | PrivateKey, kind: str, body: dict[str, Any], **kw: Any) -> Tx:
        self._nonce += 1
        if isinstance(org, PrivateKey):
            return Tx(self.genesis.chain_id, kind, body, org.public_key,
                      self._nonce).signed(org)
        return event(org, kind, body, nonce=self._nonce, **kw)

    def gov(self, kind: str, body: dict[str, Any]) -> Tx:
        approvals = [approve(org_key(a), self.genesis.chain_id, kind, body) for a in ADMINS]
        return self.tx("admin-1", kind, {**body, "approvals": approvals})

    def run(self, *txs: Tx, rpc: RpcClient | None = None) -> list[dict[str, Any]]:
        """Submit txs together (through `rpc`, the full node by default); their results."""
        rpc = rpc or self.full
        ids = [rpc.call("lot_submitEvent", event=tx.to_json())["tx_id"] for tx in txs]
        return [wait_final(rpc, tx_id, timeout=90) for tx_id in ids]

    def ok(self, *txs: Tx, rpc: RpcClient | None = None) -> None:
        results = self.run(*txs, rpc=rpc)
        assert all(r["status"] == "final" for r in results), [r.get("reason") for r in results]

    def state(self, lot_id: str) -> dict[str, Any] | None:
        try:
            return dict(self.validator.call("lot_get", lot_id=lot_id))
        except RpcCallError:
            return None

    def refused(self, tx: Tx) -> str:
        [result] = self.run(tx)
        assert result["status"] == "rejected", result
        return str(result["reason"])


def free_base(nodes: int) -> int:
    """A base port for plan_devnet whose p2p and RPC ports (base+56 on) are all free now
    and handed out to nothing else in this process."""
    return free_port_base(2 + 2 * nodes) - 56


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    home = tmp_path_factory.mktemp("scenario")
    base = free_base(nodes=5)
    nodes = []
    for entry in plan_devnet(home, base, full_nodes=1):
        node = NodeProcess(Path(entry["home"]), home / "genesis.json", entry["name"],
                           rpc_port=entry["rpc_port"], p2p_port=entry["p2p_port"])
        node.argv = entry["argv"]
        nodes.append(node)
    try:
        for node in nodes:
            node.start(wait=False)
        for node in nodes:
            node.wait_ready(timeout=90)
        yield Devnet(home, nodes)
    finally:
        for node in nodes:
            node.stop()


def register(lot_id: str, mineral: str, site: str, mass_g: int) -> dict[str, Any]:
    return {"lot_id": lot_id, "mineral": mineral, "form": "ore", "mass_g": mass_g,
            "site_id": site, "extracted_at_ms": 1_795_000_000_000}


def dispatch(lot_id: str, to_org: str, mass_g: int) -> dict[str, Any]:
    return {"lot_id": lot_id, "to_org": to_org, "mass_g": mass_g,
            "carrier_org": "transporter-1"}


def receive(lot_id: str, site: str, mass_g: int) -> dict[str, Any]:
    return {"lot_id": lot_id, "site_id": site, "mass_g": mass_g}


ORES = [("mine-1", CU1, "copper", "mine-1-pit-a", 20_000_000, {"Cu": 9_000}),
        ("mine-1", CU2, "copper", "mine-1-pit-a", 30_000_000, {"Cu": 6_000}),
        ("mine-2", SB, "antimony", "mine-2-adit-1", 10_000_000, {"Sb": 40_000}),
        ("mine-3", RE, "rare_earth", "mine-3-pit-1", 5_000_000, {"Nd": 20_000, "Pr": 5_000})]


@pytest.fixture(scope="module")
def exported(net: Devnet) -> Devnet:
    """The journey every later test starts from: the three mines' ores through the
    transporter, the lab and the refinery to an attested export."""
    net.ok(*(net.tx(org, "register_lot", register(lot, mineral, site, mass))
             for org, lot, mineral, site, mass, _ in ORES))
    net.ok(*(net.tx(org, "dispatch", dispatch(lot, "transporter-1", mass))
             for org, lot, _, _, mass, _ in ORES))
    net.ok(*(net.tx("transporter-1", "receive", receive(lot, "transporter-1-depot", mass))
             for _, lot, _, _, mass, _ in ORES))
    net.ok(*(net.tx("lab-1", "assay", {"lot_id": lot, "composition": comp})
             for _, lot, _, _, _, comp in ORES), rpc=net.validator)
    net.ok(*(net.tx("transporter-1", "dispatch", dispatch(lot, "refinery-1", mass))
             for _, lot, _, _, mass, _ in ORES))
    net.ok(*(net.tx("refinery-1", "receive", receive(lot, "refinery-1-qasim", mass))
             for _, lot, _, _, mass, _ in ORES))
    net.ok(net.tx("refinery-1", "merge", {"lot_ids": [CU1, CU2], "new_lot_id": CUM}))
    net.ok(net.tx("refinery-1", "transform", {
        "site_id": "refinery-1-qasim", "inputs": [CUM, SB, RE],
        "outputs": [
            {"lot_id": CATH, "mineral": "copper", "form": "cathode", "mass_g": 350_000,
             "composition": {"Cu": 999_900}},
            {"lot_id": SBC, "mineral": "antimony", "form": "concentrate", "mass_g": 600_000,
             "composition": {"Sb": 600_000}},
            {"lot_id": REO, "mineral": "rare_earth", "form": "oxide", "mass_g": 100_000,
             "composition": {"Nd": 700_000, "Pr": 200_000}}]}))
    net.ok(net.tx("refinery-1", "split", {"lot_id": CATH, "children": [
        {"lot_id": EXP, "mass_g": 200_000}, {"lot_id": KEEP, "mass_g": 150_000}]}))
    net.ok(net.tx("refinery-1", "dispatch", dispatch(EXP, "exporter-1", 200_000)))
    net.ok(net.tx("exporter-1", "receive", receive(EXP, "exporter-1-karachi", 200_000)))
    # An auditor device key, added by the admin quorum, attests before export.
    net.ok(net.gov("gov_add_key", {"org_id": "auditor-1",
                                   "key": AUDIT_KEY.public_key.hex()}))
    net.ok(net.tx(AUDIT_KEY, "attest", {"lot_id": EXP, "standard": "OECD-DDG",
                                         "finding": "chain of custody complete"}))
    net.ok(net.tx("exporter-1", "export", {"lot_id": EXP, "destination": "CN",
                                           "buyer": "Jiangxi Copper", "permit_ref": "EXP-77"}))
    return net


def test_three_mines_to_export(exported: Devnet) -> None:
    net = exported
    lot = net.full.call("lot_get", lot_id=EXP)
    assert lot["status"] == "exported" and lot["holder"] == "exporter-1"
    assert lot["export"]["destination"] == "CN"
    cath = net.validator.call("lot_get", lot_id=CATH)
    assert cath["status"] == "consumed" and sorted(cath["children"]) == [EXP, KEEP]
    assert set(net.full.call("lot_get", lot_id=CATH)["parents"]) == {CUM, SB, RE}


@pytest.mark.parametrize("org, kind, body, reason", [
    ("refinery-1", "merge", {"lot_ids": [CU1, CU2], "new_lot_id": "PK-CU-2026-0299"},
     f"lot {CU1} was consumed at height"),
    ("transporter-2", "dispatch", dispatch(KEEP, "exporter-1", 150_000),
     f"lot {KEEP} is held by refinery-1, not transporter-2"),
    ("refinery-1", "transform", {"site_id": "refinery-1-qasim", "inputs": [KEEP], "outputs": [
        {"lot_id": "PK-CU-2026-0298", "mineral": "copper", "form": "cathode",
         "mass_g": 300_000, "composition": {"Cu": 999_900}}]},
     "transform creates .* of Cu not present in inputs"),
    ("refinery-1", "split", {"lot_id": KEEP, "children": [
        {"lot_id": "PK-CU-2026-0297", "mass_g": 100_000},
        {"lot_id": "PK-CU-2026-0296", "mass_g": 100_000}]},
     f"children total 0.2 t but lot {KEEP} weighs 0.15 t; a split must conserve mass"),
    ("mine-1", "register_lot", register("PK-SB-2026-0299", "antimony", "mine-2-adit-1", 1_000),
     "site mine-2-adit-1 belongs to mine-2, not mine-1"),
    ("refinery-1", "dispatch", dispatch(EXP, "exporter-1", 200_000),
     f"lot {EXP} .*export"),
])
@pytest.mark.usefixtures("exported")
def test_fraud_is_recorded_rejected_with_its_reason(net: Devnet, org: str, kind: str,
                                                    body: dict[str, Any], reason: str) -> None:
    subject = body.get("lot_id") or body["lot_ids"][0] if kind != "transform" else KEEP
    before = net.state(subject)
    got = net.refused(net.tx(org, kind, body))
    assert re.search(reason, got), got
    assert net.state(subject) == before          # a refused event changes nothing


@pytest.mark.usefixtures("exported")
def test_a_held_lot_cannot_move_until_released(net: Devnet) -> None:
    net.ok(net.tx("regulator-1", "hold", {"lot_id": KEEP, "reason": "permit check"}))
    reason = net.refused(net.tx("refinery-1", "dispatch", dispatch(KEEP, "exporter-1",
                                                                  150_000)))
    assert f"lot {KEEP} is held by regulator-1" in reason
    net.ok(net.tx("regulator-1", "release", {"lot_id": KEEP, "reason": "permit seen"}))
    net.ok(net.tx("refinery-1", "dispatch", dispatch(KEEP, "exporter-1", 150_000)))


@pytest.mark.usefixtures("exported")
def test_revoked_unknown_and_foreign_keys_and_chains_are_refused_at_submission(
        net: Devnet) -> None:
    net.ok(net.gov("gov_revoke_key", {"key": AUDIT_KEY.public_key.hex(),
                                      "reason": "device lost"}))
    attempts = [
        (net.tx(AUDIT_KEY, "flag", {"lot_id": KEEP, "reason": "late"}), "was revoked"),
        (net.tx(PrivateKey(b"\x22" * 32), "flag", {"lot_id": KEEP, "reason": "who"}),
         "not registered"),
        (net.tx("auditor-1", "flag", {"lot_id": KEEP, "reason": "x"},
                chain_id="orechain-other-1"), "wrong chain id"),
    ]
    for tx, reason in attempts:
        for rpc in (net.full, net.validator):
            with pytest.raises(RpcCallError, match=reason):
                rpc.call("lot_submitEvent", event=tx.to_json())
            with pytest.raises(RpcCallError, match="not known"):
                rpc.call("tx_get", tx_id=tx.tx_id.hex())


def test_a_replayed_tx_returns_its_id_and_status_and_applies_once(net: Devnet) -> None:
    tx = net.tx("mine-3", "register_lot", register("PK-RE-2026-0299", "rare_earth",
                                                   "mine-3-pit-1", 2_000_000))
    first = net.run(tx)[0]
    for rpc in (net.full, net.validator):
        again = rpc.call("lot_submitEvent", event=tx.to_json())
        assert again == {"tx_id": tx.tx_id.hex(), "status": "final"}
    assert rpc.call("tx_get", tx_id=tx.tx_id.hex())["height"] == first["height"]
    history = net.validator.call("lot_history", lot_id="PK-RE-2026-0299")["events"]
    assert [e["tx_id"] for e in history] == [tx.tx_id.hex()]


@pytest.mark.usefixtures("exported")
def test_exported_lot_provenance_verifies_offline_and_every_flip_fails(
        net: Devnet, tmp_path: Path) -> None:
    answer = net.full.call("lot_provenance", lot_id=EXP, direction="both")
    assert set(answer["lots"]) == {EXP, CATH, CUM, CU1, CU2, SB, RE}
    kinds = [e["tx"]["kind"] for e in answer["events"]]
    assert {"gov_add_key", "attest", "export", "transform", "merge", "split"} <= set(kinds)
    saved = tmp_path / "answer.json"
    saved.write_text(json.dumps(answer))
    genesis_file = net.home / "genesis.json"
    cli = [sys.executable, "-m", "node", "verify", str(saved), "--genesis", str(genesis_file)]
    ok = subprocess.run(cli, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert f"lot {EXP}" in ok.stdout

    # The attest was signed by a key revoked since: it stays valid, and so does the answer.
    report = verify_provenance(answer, net.genesis)
    assert report.governance >= 1 and report.lots == 7

    text = saved.read_text()
    outcome = flip_all(text, net.genesis, sample_positions(text, default_stride() * 2))
    assert outcome.verified == [], [text[p - 40:p + 40] for p in outcome.verified[:5]]
    assert outcome.identical == []
    assert outcome.tried > len(text) // 10

    tampered = tmp_path / "tampered.json"
    tampered.write_text(text.replace('"mass_g": 200000', '"mass_g": 200001', 1))
    bad = subprocess.run([*cli[:4], str(tampered), *cli[5:]], capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 1 and "NOT VERIFIED" in bad.stderr, bad
