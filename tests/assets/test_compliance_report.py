"""`orechain compliance report`: outlier ranking and the SVG, on a dump of real txs
applied by the node's rules in memory."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from node.cli.compliance import add_parser, observations, rank, robust_z, svg
from node.cli.main import build_parser
from tests.assets.assetchain import T0, AssetChain


def dump_of(chain: AssetChain, lots: list[str]) -> dict[str, Any]:
    """The dump shape fetch_dump writes, from a chain whose txs were all accepted."""
    by_height: dict[int, list[dict[str, Any]]] = {}
    for tx_id, (height, _, tx) in chain.txs.items():
        by_height.setdefault(height, []).append(
            {"tx_id": tx_id.hex(), "tx": tx.to_json(), "accepted": True})
    return {"blocks": [{"height": h, "time_ms": T0 + 1_000 * h, "txs": txs}
                       for h, txs in sorted(by_height.items())],
            "lots": {lot_id: chain.lot(lot_id) for lot_id in lots}}


def haul(chain: AssetChain, i: int, carrier: str, received: int) -> None:
    lot_id = f"PK-CU-{i:04d}"
    chain.register_at(lot_id, 1_000_000, T0)
    chain.ok("mine-1", "dispatch", {"lot_id": lot_id, "to_org": "refinery-1",
                                    "mass_g": 1_000_000, "carrier_org": carrier})
    chain.ok("refinery-1", "receive", {"lot_id": lot_id, "site_id": "refinery-1-qasim",
                                       "mass_g": received})


def test_a_carrier_losing_far_more_than_its_peers_ranks_first(tmp_path: Path) -> None:
    chain = AssetChain(licences_required=0)
    for i, received in enumerate((999_000, 998_800, 999_100, 998_900, 999_050, 998_950)):
        haul(chain, i, "transporter-1", received)
    haul(chain, 99, "transporter-2", 960_000)           # 4 % gone on the road
    obs = observations(dump_of(chain, []))
    assert len(obs) == 7 and {o.metric for o in obs} == {"loss"}
    top = rank(obs)[0]
    assert top["subject"] == "org:transporter-2"
    [outlier] = top["outliers"]
    assert (outlier["lot_id"], outlier["value_ppm"]) == ("PK-CU-0099", 40_000)
    assert rank(obs)[1]["outliers"] == [outlier]        # the receiving site, same haul
    plot = ET.fromstring(svg(obs))
    circles = plot.findall("{http://www.w3.org/2000/svg}circle")
    assert len(circles) == 7
    assert sum(c.get("fill") == "#c0392b" for c in circles) == 1


def test_recovery_observations_come_from_the_recorded_rates() -> None:
    chain = AssetChain(licences_required=0)
    chain.assayed_at_refinery("PK-CU-1")
    chain.cathode("PK-CU-1", "C-1", 240_000, 1_000_000)
    [obs] = [o for o in observations(dump_of(chain, ["C-1"])) if o.metric != "loss"]
    assert (obs.metric, obs.value_ppm, obs.subjects) == (
        "recovery:Cu", 960_000, ("org:refinery-1", "site:refinery-1-qasim"))


def test_no_spread_means_no_outliers() -> None:
    assert robust_z([5, 5, 5, 5]) == [0.0, 0.0, 0.0, 0.0]


def test_the_command_reads_a_saved_dump(tmp_path: Path, capsys: Any) -> None:
    chain = AssetChain(licences_required=0)
    haul(chain, 1, "transporter-1", 999_000)
    haul(chain, 2, "transporter-1", 990_000)
    dump = tmp_path / "dump.json"
    dump.write_text(json.dumps(dump_of(chain, [])))
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    if "compliance" not in sub.choices:                 # until main registers it
        add_parser(sub)
    out_svg = tmp_path / "plot.svg"
    args = parser.parse_args(["compliance", "report", "--dump", str(dump), "--svg",
                              str(out_svg), "--json"])
    args.func(args)
    report = json.loads(capsys.readouterr().out)
    assert report["observations"] == 2
    assert ET.parse(out_svg).getroot().tag.endswith("svg")
