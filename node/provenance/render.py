"""Renderings of a lot_provenance answer for people: a terminal tree, Graphviz DOT, SVG.

Everything is drawn from the answer's `lots` and `events` only (never from a node's
state), so `orechain trace` can render a saved answer offline. SVG comes from
Graphviz's `dot` when it is installed and otherwise from a small built-in layered
layout, so a report never depends on an optional tool.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from node.provenance.mass import format_mass, format_ppm
from node.provenance.schema import lots_named

Answer = dict[str, Any]

_CREATING = {"register_lot", "split", "merge", "transform"}
_FILL = {"active": "#ffffff", "in_transit": "#cfe2ff", "consumed": "#e9ecef",
         "exported": "#d1e7dd", "held": "#f8d7da"}
_FLAGGED_FILL = "#fff3cd"


# --- text summaries -------------------------------------------------------------------

def lot_summary(lot: dict[str, Any]) -> str:
    """One line: "copper cathode, 300 kg, exported to CN"."""
    parts = [f"{lot['mineral']} {lot['form']}", format_mass(lot["mass_g"])]
    status = lot["status"]
    if status == "exported" and lot.get("export"):
        status = f"exported to {lot['export']['destination']}"
    elif lot.get("site_id"):
        status = f"{status} at {lot['site_id']} ({lot['holder']})"
    elif status == "in_transit" and lot.get("transit"):
        status = f"in transit to {lot['transit']['to_org']}"
    parts.append(status)
    if lot.get("hold"):
        parts.append(f"HELD by {lot['hold']['by']}: {lot['hold']['reason']}")
    if lot.get("flags"):
        parts.append(f"{len(lot['flags'])} flag(s)")
    return ", ".join(parts)


def _composition(composition: dict[str, int]) -> str:
    return " ".join(f"{el} {format_ppm(ppm)}" for el, ppm in sorted(composition.items())) or "-"


def event_summary(kind: str, body: dict[str, Any]) -> str:
    """What an event did, in a few words, from its body alone."""
    match kind:
        case "register_lot":
            return f"extracted at {body['site_id']}, {format_mass(body['mass_g'])}"
        case "assay":
            return _composition(body["composition"])
        case "dispatch":
            via = f" via {body['carrier_org']}" if "carrier_org" in body else ""
            return f"to {body['to_org']}{via}, {format_mass(body['mass_g'])}"
        case "receive":
            return f"at {body['site_id']}, weighed {format_mass(body['mass_g'])}"
        case "split":
            kids = ", ".join(f"{c['lot_id']} {format_mass(c['mass_g'])}"
                             for c in body["children"])
            return f"{body['lot_id']} into {kids}"
        case "merge":
            return f"{' + '.join(body['lot_ids'])} into {body['new_lot_id']}"
        case "transform":
            outs = ", ".join(f"{o['lot_id']} {format_mass(o['mass_g'])}"
                             for o in body["outputs"])
            return f"at {body['site_id']}: {', '.join(body['inputs'])} into {outs}"
        case "export":
            return f"to {body['destination']}, buyer {body['buyer']}, permit {body['permit_ref']}"
        case "attest":
            return f"{body['standard']}: {body['finding']}"
        case _:
            return str(body.get("reason", ""))


# --- the terminal tree ----------------------------------------------------------------

def tree(answer: Answer) -> str:
    """The graph as an indented tree: each lot, its events, then the lots it came from
    (backward) or went into (forward); a lot reached twice is drawn once."""
    lots, by_lot = answer["lots"], _events_by_lot(answer)
    root = answer["lot_id"]
    if root not in lots:
        return f"{root}: no such lot\n"
    ancestors = _ancestors(lots, root)

    def edges_of(lot_id: str) -> tuple[str, ...]:
        # Walk away from the root only: up through ancestors, down through descendants.
        if answer["direction"] == "backward":
            return ("parents",)
        if answer["direction"] == "forward":
            return ("children",)
        if lot_id == root:
            return ("parents", "children")
        return ("parents",) if lot_id in ancestors else ("children",)

    lines: list[str] = []
    drawn: set[str] = set()
    # Iterative pre-order walk: (lot id, label, indent of its items, own prefix).
    stack: list[tuple[str, str, str, str]] = [(root, "", "", "")]
    while stack:
        lot_id, label, indent, prefix = stack.pop()
        lot = lots[lot_id]
        if lot_id in drawn:
            lines.append(f"{prefix}{label}{lot_id} (shown above)")
            continue
        drawn.add(lot_id)
        lines.append(f"{prefix}{label}{lot_id}  {lot_summary(lot)}")
        related = [("from " if edge == "parents" else "into ", other)
                   for edge in edges_of(lot_id) for other in lot[edge] if other in lots]
        items = [("event", e) for e in by_lot.get(lot_id, [])] + [("lot", r) for r in related]
        pushes = []
        for i, (what, item) in enumerate(items):
            last = i == len(items) - 1
            branch, further = ("└─ ", "   ") if last else ("├─ ", "│  ")
            if what == "event":
                lines.append(f"{indent}{branch}{_event_line(item)}")
            else:
                pushes.append((item[1], item[0], indent + further, indent + branch))
        stack.extend(reversed(pushes))
    return "\n".join(lines) + "\n"


def _ancestors(lots: dict[str, dict[str, Any]], root: str) -> set[str]:
    seen: set[str] = set()
    stack = list(lots[root]["parents"])
    while stack:
        lot_id = stack.pop()
        if lot_id in lots and lot_id not in seen:
            seen.add(lot_id)
            stack.extend(lots[lot_id]["parents"])
    return seen


def _event_line(event: dict[str, Any]) -> str:
    tx = event["tx"]
    where = f"h{event['height']}.{event['index']}"
    return f"{where} {tx['kind']}: {event_summary(tx['kind'], tx['body'])}"


def _events_by_lot(answer: Answer) -> dict[str, list[dict[str, Any]]]:
    by_lot: dict[str, list[dict[str, Any]]] = {}
    for event in sorted(answer["events"], key=lambda e: (e["height"], e["index"])):
        tx = event["tx"]
        for lot_id in lots_named(tx["kind"], tx["body"]):
            if lot_id in answer["lots"]:
                by_lot.setdefault(lot_id, []).append(event)
    return by_lot


# --- the graph both DOT and SVG draw ----------------------------------------------------

@dataclass
class _Node:
    id: str
    lines: list[str]
    fill: str
    shape: str = "box"


@dataclass
class _Graph:
    nodes: dict[str, _Node] = field(default_factory=dict)
    edges: list[tuple[str, str, str]] = field(default_factory=list)   # from, to, label


def _graph(answer: Answer) -> _Graph:
    """Lots as boxes; extraction sites and export destinations as end points; edges
    labelled with the event that links them."""
    graph = _Graph()
    lots = answer["lots"]
    for lot_id in sorted(lots):
        lot = lots[lot_id]
        status = "held" if lot.get("hold") else lot["status"]
        fill = _FLAGGED_FILL if lot.get("flags") and status != "held" else _FILL[status]
        lines = [lot_id, f"{lot['mineral']} {lot['form']}",
                 f"{format_mass(lot['mass_g'])} · {status.replace('_', ' ')}"]
        if lot.get("composition"):
            lines.append(_composition(lot["composition"]))
        graph.nodes[lot_id] = _Node(lot_id, lines, fill)
    for event in sorted(answer["events"], key=lambda e: (e["height"], e["index"])):
        kind, body = event["tx"]["kind"], event["tx"]["body"]
        label = f"{kind} h{event['height']}"
        if kind == "register_lot" and body["lot_id"] in lots:
            site = f"site:{body['site_id']}"
            graph.nodes.setdefault(site, _Node(site, [body["site_id"], "extraction"],
                                               "#fde2c8", "house"))
            graph.edges.append((site, body["lot_id"], label))
        elif kind == "export" and body["lot_id"] in lots:
            dest = f"export:{body['lot_id']}"
            graph.nodes[dest] = _Node(dest, [f"export to {body['destination']}", body["buyer"],
                                             body["permit_ref"]], "#d1e7dd", "cds")
            graph.edges.append((body["lot_id"], dest, label))
        elif kind in _CREATING:
            for src, dst in _links(kind, body):
                if src in lots and dst in lots:
                    graph.edges.append((src, dst, label))
    return graph


def _links(kind: str, body: dict[str, Any]) -> Iterator[tuple[str, str]]:
    if kind == "split":
        for child in body["children"]:
            yield body["lot_id"], child["lot_id"]
    elif kind == "merge":
        for parent in body["lot_ids"]:
            yield parent, body["new_lot_id"]
    elif kind == "transform":
        for src in body["inputs"]:
            for out in body["outputs"]:
                yield src, out["lot_id"]


# --- DOT ----------------------------------------------------------------------------------

def _dot_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot(answer: Answer) -> str:
    """Graphviz DOT source of the provenance graph (left to right, oldest first)."""
    graph = _graph(answer)
    out = [f"digraph {_dot_str('provenance of ' + answer['lot_id'])} {{",
           "  rankdir=LR;",
           '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
           '  edge [fontname="Helvetica", fontsize=9];']
    for node in graph.nodes.values():
        label = "\\n".join(_dot_str(line)[1:-1] for line in node.lines)
        pen = ", penwidth=2" if node.id == answer["lot_id"] else ""
        out.append(f'  {_dot_str(node.id)} [label="{label}", shape={node.shape}, '
                   f'fillcolor="{node.fill}"{pen}];')
    for src, dst, label in graph.edges:
        out.append(f"  {_dot_str(src)} -> {_dot_str(dst)} [label={_dot_str(label)}];")
    out.append("}")
    return "\n".join(out) + "\n"


# --- SVG ----------------------------------------------------------------------------------

_BOX_W, _LINE_H, _PAD, _GAP_X, _GAP_Y = 210, 15, 8, 70, 24


def svg(answer: Answer) -> str:
    """SVG of the provenance graph: Graphviz when `dot` is installed, else built in."""
    dot_program = shutil.which("dot")
    if dot_program:
        done = subprocess.run([dot_program, "-Tsvg"], input=dot(answer), capture_output=True,
                              text=True, timeout=60, check=False)
        if done.returncode == 0:
            return done.stdout
    return _builtin_svg(_graph(answer), answer["lot_id"])


def _layers(graph: _Graph) -> list[list[str]]:
    """Longest-path layering (the graph is acyclic: lots only point at newer lots),
    then one barycentre pass so edges cross less."""
    preds: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for src, dst, _ in graph.edges:
        preds[dst].append(src)
    layer: dict[str, int] = {}
    for node in graph.nodes:
        stack = [node]
        while stack:
            current = stack[-1]
            pending = [p for p in preds[current] if p not in layer]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            layer[current] = max((layer[p] + 1 for p in preds[current]), default=0)
    columns: list[list[str]] = [[] for _ in range(max(layer.values(), default=-1) + 1)]
    for node in graph.nodes:
        columns[layer[node]].append(node)
    for depth in range(1, len(columns)):
        rank = {n: i for i, n in enumerate(columns[depth - 1])}

        def barycentre(node: str, rank: dict[str, int] = rank) -> float:
            placed = [rank[p] for p in preds[node] if p in rank]
            return sum(placed) / len(placed) if placed else 0.0  # layout only, not consensus
        columns[depth].sort(key=barycentre)
    return columns


def _builtin_svg(graph: _Graph, root: str) -> str:
    columns = _layers(graph)
    pos: dict[str, tuple[int, int, int]] = {}     # x, y, height
    width = height = 0
    for col, nodes in enumerate(columns):
        y = _PAD
        x = _PAD + col * (_BOX_W + _GAP_X)
        for node in nodes:
            h = 2 * _PAD + _LINE_H * len(graph.nodes[node].lines)
            pos[node] = (x, y, h)
            y += h + _GAP_Y
        width, height = max(width, x + _BOX_W + _PAD), max(height, y)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" '
           'font-size="11">',
           "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
           "markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">"
           "<path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#555\"/></marker></defs>",
           f"<title>{xml_escape('provenance of ' + root)}</title>"]
    for src, dst, label in graph.edges:
        sx, sy, sh = pos[src]
        dx, dy, dh = pos[dst]
        x1, y1, x2, y2 = sx + _BOX_W, sy + sh // 2, dx, dy + dh // 2
        out.append(f'<path d="M {x1} {y1} C {x1 + _GAP_X // 2} {y1}, {x2 - _GAP_X // 2} {y2}, '
                   f'{x2} {y2}" fill="none" stroke="#555" marker-end="url(#arrow)"/>')
        out.append(f'<text x="{(x1 + x2) // 2}" y="{(y1 + y2) // 2 - 3}" font-size="9" '
                   f'text-anchor="middle" fill="#333">{xml_escape(label)}</text>')
    for node_id, node in graph.nodes.items():
        x, y, h = pos[node_id]
        stroke = 'stroke="#000" stroke-width="2"' if node_id == root else 'stroke="#777"'
        out.append(f'<g><rect x="{x}" y="{y}" width="{_BOX_W}" height="{h}" rx="6" '
                   f'fill="{node.fill}" {stroke}/>')
        for i, line in enumerate(node.lines):
            weight = ' font-weight="bold"' if i == 0 else ""
            out.append(f'<text x="{x + _PAD}" y="{y + _PAD + _LINE_H * (i + 1) - 3}"{weight}>'
                       f"{xml_escape(line)}</text>")
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
