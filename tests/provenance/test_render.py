"""Trace renderings: terminal tree, Graphviz DOT and SVG, from a lot_provenance answer."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from node.provenance import render
from tests.provenance.lotchain import Chain

REF = "refinery-1-qasim"
BUYER = 'Acme "Metals" <Ltd> & Co'


@pytest.fixture(scope="module")
def chain() -> Chain:
    """A split whose two halves are merged again (a diamond), refined and exported."""
    c = Chain()
    c.to_refinery("PK-CU-A", 1_000_000, {"Cu": 250_000})
    c.ok("refinery-1", "split", {"lot_id": "PK-CU-A", "children": [
        {"lot_id": "PK-CU-A1", "mass_g": 400_000}, {"lot_id": "PK-CU-A2", "mass_g": 600_000}]})
    c.ok("refinery-1", "merge", {"lot_ids": ["PK-CU-A1", "PK-CU-A2"], "new_lot_id": "PK-CU-M"})
    c.ok("refinery-1", "transform", {"site_id": REF, "inputs": ["PK-CU-M"], "outputs": [
        {"lot_id": "PK-CU-K", "mineral": "copper", "form": "cathode", "mass_g": 240_000,
         "composition": {"Cu": 999_900}}]})
    c.move("PK-CU-K", "refinery-1", "exporter-1", "exporter-1-karachi", 240_000, 230_000)
    c.ok("exporter-1", "export", {"lot_id": "PK-CU-K", "destination": "DE", "buyer": BUYER,
                                  "permit_ref": "EXP-7"})
    return c


def test_tree_backward_draws_each_lot_once(chain: Chain) -> None:
    text = render.tree(chain.answer("PK-CU-K", "backward"))
    lines = text.splitlines()
    assert lines[0] == "PK-CU-K  copper cathode, 0.23 t, exported to DE, 1 flag(s)"
    assert "h1.0 register_lot: extracted at mine-1-pit-a, 1 t" in text
    assert "h2.0 assay: Cu 25%" in text
    assert "PK-CU-A (shown above)" in text           # reached through both halves
    assert sum(line.endswith("PK-CU-A  copper ore, 1 t, consumed at refinery-1-qasim "
                             "(refinery-1)") for line in lines) == 1
    assert text.count("└─ from PK-CU-M") == 1


def test_tree_forward_and_both(chain: Chain) -> None:
    forward = render.tree(chain.answer("PK-CU-A", "forward"))
    assert "into PK-CU-K" in forward and "export: to DE" in forward
    both = render.tree(chain.answer("PK-CU-M", "both"))
    assert "from PK-CU-A1" in both and "into PK-CU-K" in both
    assert "─ into PK-CU-A" not in both         # ancestors are not walked forward again


def test_tree_of_unknown_lot() -> None:
    answer = {"lot_id": "PK-NOPE", "direction": "backward", "lots": {}, "events": []}
    assert render.tree(answer) == "PK-NOPE: no such lot\n"


def test_dot_has_every_lot_link_and_escapes_text(chain: Chain) -> None:
    text = render.dot(chain.answer("PK-CU-K", "backward"))
    assert text.startswith('digraph "provenance of PK-CU-K" {')
    for edge in ('"site:mine-1-pit-a" -> "PK-CU-A" [label="register_lot h1"]',
                 '"PK-CU-A" -> "PK-CU-A1" [label="split h5"]',
                 '"PK-CU-A2" -> "PK-CU-M" [label="merge h6"]',
                 '"PK-CU-M" -> "PK-CU-K" [label="transform h7"]',
                 '"PK-CU-K" -> "export:PK-CU-K" [label="export h10"]'):
        assert edge in text
    assert 'Acme \\"Metals\\" <Ltd> & Co' in text
    assert text.count("{") == text.count("}")


def test_svg_is_well_formed_with_a_box_per_node(chain: Chain) -> None:
    text = render.svg(chain.answer("PK-CU-K", "backward"))
    root = ET.fromstring(text)
    assert root.tag.endswith("svg")
    labels = "".join(root.itertext())
    for lot_id in ("PK-CU-A", "PK-CU-A1", "PK-CU-A2", "PK-CU-M", "PK-CU-K"):
        assert lot_id in labels
    assert BUYER in labels
