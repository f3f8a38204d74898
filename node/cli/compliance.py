"""`orechain compliance report`: rank orgs and sites by statistical outliers in refinery
yields and transport losses over a period, offline, with an SVG plot.

The chain is read once over JSON-RPC (block_get, tx_get, lot_get) into a dump that can
be saved and re-read (`--save`, `--dump`), so a regulator can rerun the analysis without
a node. Statistics here are an offline reading aid, not consensus, so floats are fine.

Method: every accepted receive gives a loss (ppm of the dispatched mass), charged to the
carrier (or the sender if none was named) and to the receiving site; every accepted
transform gives a recovery per element (the recovery_ppm the chain recorded), charged to
the refinery and its site. Each observation gets a robust z-score against all
observations of its metric, 0.6745 * (x - median) / MAD (Iglewicz and Hoaglin); an
observation with |z| > 3.5 is an outlier. Subjects are ranked by their largest |z|.
"""

from __future__ import annotations

import argparse
import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from node.cli.client import RpcClient

OUTLIER_Z = 3.5
PPM = 1_000_000


@dataclass(frozen=True)
class Observation:
    metric: str            # "loss" or "recovery:<element>"
    value_ppm: int
    subjects: tuple[str, ...]   # "org:<id>", "site:<id>"
    lot_id: str
    tx_id: str
    time_ms: int


def fetch_dump(rpc: RpcClient, from_ms: int, to_ms: int) -> dict[str, Any]:
    """Every tx of every block in [from_ms, to_ms) with its verdict, and the states of
    transform outputs (their recorded recovery rates)."""
    head = rpc.call("chain_head")["height"]
    blocks, lots = [], {}
    for height in range(1, head + 1):
        block = rpc.call("block_get", height=height)
        time_ms = block["header"]["time_ms"]
        if not from_ms <= time_ms < to_ms:
            continue
        txs = []
        for tx_id in block["tx_ids"]:
            got = rpc.call("tx_get", tx_id=tx_id)
            txs.append({"tx_id": tx_id, "tx": got["tx"], "accepted": got["status"] == "final"})
            if got["status"] == "final" and got["tx"]["kind"] == "transform":
                first = got["tx"]["body"]["outputs"][0]["lot_id"]
                lots[first] = rpc.call("lot_get", lot_id=first)
        blocks.append({"height": height, "time_ms": time_ms, "txs": txs})
    return {"blocks": blocks, "lots": lots, "from_ms": from_ms, "to_ms": to_ms}


def observations(dump: dict[str, Any]) -> list[Observation]:
    out: list[Observation] = []
    dispatched: dict[str, dict[str, Any]] = {}
    for block in dump["blocks"]:
        for entry in block["txs"]:
            if not entry["accepted"]:
                continue
            kind, body = entry["tx"]["kind"], entry["tx"]["body"]
            if kind == "dispatch":
                dispatched[body["lot_id"]] = body
            elif kind == "receive" and body["lot_id"] in dispatched:
                sent = dispatched.pop(body["lot_id"])
                charged = sent.get("carrier_org")
                loss = (sent["mass_g"] - body["mass_g"]) * PPM // sent["mass_g"]
                subjects = (f"site:{body['site_id']}",) + ((f"org:{charged}",) if charged
                                                           else ())
                out.append(Observation("loss", loss, subjects, body["lot_id"],
                                       entry["tx_id"], block["time_ms"]))
            elif kind == "transform":
                first = body["outputs"][0]["lot_id"]
                state = dump["lots"].get(first, {})
                for element, rate in sorted(state.get("recovery_ppm", {}).items()):
                    out.append(Observation(f"recovery:{element}", rate,
                                           (f"org:{state['holder']}", f"site:{body['site_id']}"),
                                           first, entry["tx_id"], block["time_ms"]))
    return out


def robust_z(values: list[int]) -> list[float]:
    """0.6745 (x - median) / MAD; with no spread at all every score is 0."""
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values)
    if mad == 0:
        return [0.0 for _ in values]
    return [0.6745 * (v - median) / mad for v in values]


def rank(obs: list[Observation]) -> list[dict[str, Any]]:
    """Subjects ordered by their largest |z| over every metric, most suspicious first."""
    scored: list[tuple[Observation, float]] = []
    for metric in sorted({o.metric for o in obs}):
        group = [o for o in obs if o.metric == metric]
        scored += zip(group, robust_z([o.value_ppm for o in group]), strict=True)
    subjects: dict[str, dict[str, Any]] = {}
    for o, z in scored:
        for subject in o.subjects:
            row = subjects.setdefault(subject, {"subject": subject, "observations": 0,
                                                "outliers": [], "max_abs_z": 0.0})
            row["observations"] += 1
            row["max_abs_z"] = max(row["max_abs_z"], abs(z))
            if abs(z) > OUTLIER_Z:
                row["outliers"].append({"metric": o.metric, "value_ppm": o.value_ppm,
                                        "z": round(z, 2), "lot_id": o.lot_id,
                                        "tx_id": o.tx_id})
    return sorted(subjects.values(), key=lambda r: (-r["max_abs_z"], r["subject"]))


def svg(obs: list[Observation]) -> str:
    """One strip per metric: every observation as a dot on a % axis, outliers in red and
    labelled with the subject they were charged to."""
    metrics = sorted({o.metric for o in obs})
    width, row_h, left, right = 900, 90, 150, 40
    height = 60 + row_h * max(len(metrics), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="12">',
             '<text x="10" y="20" font-size="15">orechain compliance: yields and losses '
             f'(outlier: |robust z| &gt; {OUTLIER_Z})</text>']
    for row, metric in enumerate(metrics):
        group = [o for o in obs if o.metric == metric]
        zs = robust_z([o.value_ppm for o in group])
        lo = min(o.value_ppm for o in group)
        hi = max(max(o.value_ppm for o in group), lo + 1)
        y = 60 + row * row_h + row_h // 2
        parts.append(f'<text x="10" y="{y + 4}">{escape(metric)}</text>')
        parts.append(f'<line x1="{left}" y1="{y}" x2="{width - right}" y2="{y}" '
                     'stroke="#999"/>')
        for value, anchor in ((lo, "start"), (hi, "end")):
            x = left if anchor == "start" else width - right
            parts.append(f'<text x="{x}" y="{y + 24}" text-anchor="{anchor}" '
                         f'fill="#555">{value / 10_000:.2f}%</text>')
        for o, z in zip(group, zs, strict=True):
            x = left + (o.value_ppm - lo) * (width - left - right) / (hi - lo)
            outlier = abs(z) > OUTLIER_Z
            colour = "#c0392b" if outlier else "#2c7fb8"
            parts.append(f'<circle cx="{x:.1f}" cy="{y}" r="{6 if outlier else 4}" '
                         f'fill="{colour}" fill-opacity="0.7"><title>{escape(o.lot_id)} '
                         f'{o.value_ppm / 10_000:.2f}% z={z:.2f}</title></circle>')
            if outlier:
                parts.append(f'<text x="{x:.1f}" y="{y - 10}" text-anchor="middle" '
                             f'fill="#c0392b">{escape(o.subjects[-1])}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def cmd_report(args: argparse.Namespace) -> None:
    if args.dump:
        dump = json.loads(Path(args.dump).read_text())
    else:
        dump = fetch_dump(RpcClient(args.rpc), args.from_ms, args.to_ms)
    if args.save:
        Path(args.save).write_text(json.dumps(dump))
    obs = observations(dump)
    ranking = rank(obs)
    if args.svg:
        Path(args.svg).write_text(svg(obs))
    if args.json:
        print(json.dumps({"observations": len(obs), "ranking": ranking}, indent=2))
        return
    print(f"{len(obs)} observations; subjects ranked by largest |robust z|")
    for row in ranking:
        flag = f"  {len(row['outliers'])} outlier(s)" if row["outliers"] else ""
        print(f"{row['max_abs_z']:8.2f}  {row['subject']:<32} n={row['observations']}{flag}")


def add_parser(sub: Any) -> None:
    """Register `compliance report` on the `orechain` subcommand parser."""
    c = sub.add_parser("compliance", help="offline compliance analysis of a chain")
    csub = c.add_subparsers(dest="compliance_command", required=True)
    r = csub.add_parser("report", help="rank orgs and sites by outliers in yields and losses")
    source = r.add_mutually_exclusive_group()
    source.add_argument("--rpc", default="http://127.0.0.1:26657/rpc", help="node RPC URL")
    source.add_argument("--dump", help="a dump saved earlier with --save")
    r.add_argument("--save", help="write the chain data read to this file")
    r.add_argument("--from-ms", type=int, default=0, help="period start (block time, ms)")
    r.add_argument("--to-ms", type=int, default=1 << 53, help="period end (exclusive)")
    r.add_argument("--svg", help="write the plot to this SVG file")
    r.add_argument("--json", action="store_true", help="print the ranking as JSON")
    r.set_defaults(func=cmd_report)
