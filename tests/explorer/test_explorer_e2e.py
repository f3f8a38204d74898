"""The explorer page in headless Chromium against a real daemon: head, recent blocks,
a lot searched by id, its provenance graph verified in the browser, its custody
timeline, and a screenshot."""

import asyncio
import json
import struct

import pytest

from tests.explorer.browser import Page
from tests.test_e2e_single_node import LOT, OUT

pytestmark = pytest.mark.network

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_SIGNATURE) and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


async def _search(page: Page, lot_id: str) -> None:
    await page.evaluate(f"""(() => {{
        document.querySelector('#lot-id').value = {json.dumps(lot_id)};
        document.querySelector('#search').requestSubmit();
    }})()""")


def test_lot_search_draws_verified_graph_and_custody_timeline(browser, journey_node, tmp_path):
    node, tx_ids = journey_node
    url = f"http://127.0.0.1:{node.rpc_port}/"

    async def scenario():
        async with Page(browser.port) as page:
            await page.navigate(url)
            await page.wait_for("document.querySelector('#head-height')?.textContent "
                                "=== 'height 5'")
            blocks = await page.wait_for(
                "[...document.querySelectorAll('#blocks tbody tr[data-height]')]"
                ".map(r => [r.dataset.height, r.lastChild.textContent])")
            await _search(page, LOT)
            await page.wait_for(f"document.querySelector('#graph').dataset.lot === '{LOT}'")
            dom = await page.evaluate("""(() => ({
                lots: [...document.querySelectorAll('#graph [data-lot]')].map(n => n.dataset.lot),
                events: [...document.querySelectorAll('#graph [data-tx]')].map(
                    n => [n.dataset.tx, n.dataset.kind, n.dataset.status,
                          n.querySelector('.mark, .edge-label').textContent[0]]),
                note: document.querySelector('#verify-note').textContent,
                timeline: [...document.querySelectorAll('#timeline li')].map(
                    n => [n.dataset.kind, n.dataset.holder]),
                hash: location.hash,
                secure: isSecureContext,
            }))()""")
            await page.evaluate("document.querySelector('#graph [data-kind=\"receive\"]')"
                                ".dispatchEvent(new MouseEvent('click'))")
            checks = await page.wait_for(
                "!document.querySelector('#event-detail').hidden && "
                "[...document.querySelectorAll('#event-detail .checks li')]"
                ".map(li => li.className)")
            detail = await page.evaluate("document.querySelector('#event-detail').textContent")
            shot = await page.screenshot()
            return blocks, dom, checks, detail, shot, page.errors

    blocks, dom, checks, detail, shot, errors = asyncio.run(scenario())
    assert errors == []
    assert [h for h, _ in blocks] == ["5", "4", "3", "2", "1"]
    assert all(commit.startswith("✓ 10/10") for _, commit in blocks)
    assert dom["secure"] is True and dom["hash"] == f"#lot={LOT}"
    assert sorted(dom["lots"]) == sorted([LOT, OUT])
    assert {tx for tx, *_ in dom["events"]} == set(tx_ids)
    assert {kind for _, kind, *_ in dom["events"]} == {
        "register_lot", "assay", "dispatch", "receive", "transform"}
    assert [(s, m) for *_, s, m in dom["events"]] == [("verified", "✓")] * 5, dom["events"]
    assert "5 verified" in dom["note"]
    assert "Inclusion proof checked in your browser" in dom["note"]
    assert "Signatures: run orechain verify" in dom["note"]
    assert dom["timeline"] == [["register_lot", "mine-1"], ["dispatch", "transporter-1"],
                               ["receive", "refinery-1"], ["transform", "refinery-1"]]
    assert checks == ["ok"] * 5
    assert "signed by Port Qasim Refinery" in detail and "24950000" in detail
    assert "null" not in detail and "rejected" not in detail

    path = tmp_path / "explorer.png"
    path.write_bytes(shot)
    width, height = png_size(path.read_bytes())
    assert width == 1280 and height >= 900
    assert len(shot) > 30_000  # a blank page compresses to a few kilobytes


def test_following_a_lot_in_the_graph_and_an_unknown_lot(browser, journey_node):
    node, _ = journey_node

    async def scenario():
        async with Page(browser.port) as page:
            await page.navigate(f"http://127.0.0.1:{node.rpc_port}/#lot={LOT}")
            await page.wait_for(f"document.querySelector('#graph').dataset.lot === '{LOT}'")
            await page.evaluate(f"document.querySelector('[data-lot=\"{OUT}\"] .lot-head')"
                                ".dispatchEvent(new MouseEvent('click'))")
            await page.wait_for(f"document.querySelector('#graph').dataset.lot === '{OUT}'")
            title = await page.evaluate("document.querySelector('#lot-title').textContent")
            timeline = await page.evaluate("[...document.querySelectorAll('#timeline li')]"
                                           ".map(n => n.textContent)")
            await _search(page, "PK-SB-2026-9999")
            shown = await page.wait_for("!document.querySelector('#message').hidden && "
                                        "document.querySelector('#lot').hidden && "
                                        "document.querySelector('#message').textContent")
            return title, timeline, shown, page.errors

    title, timeline, shown, errors = asyncio.run(scenario())
    assert errors == []
    assert title == f"Lot {OUT}"
    assert len(timeline) == 1 and f"produced at refinery-1-qasim from {LOT}" in timeline[0]
    assert "PK-SB-2026-9999 is not on chain" in shown


def test_browser_checks_fail_on_tampered_answers(browser, journey_node):
    """The marks can go red: the page's own verifier on altered copies of a real answer."""
    node, _ = journey_node
    answer = node.rpc.call("lot_provenance", lot_id=OUT, direction="backward")
    validators = node.rpc.call("chain_genesis")["validators"]
    first, height = answer["events"][0], str(answer["events"][0]["height"])

    def altered(change):
        copy = json.loads(json.dumps(answer))
        change(copy)
        return copy

    cases = {
        "genuine": answer,
        "mass changed": altered(lambda a: a["events"][0]["tx"]["body"].update(mass_g=1)),
        "index moved": altered(lambda a: a["events"][0].update(index=1)),
        "proof padded": altered(lambda a: a["events"][0].update(proof=["00" * 32])),
        "result flipped": altered(lambda a: a["events"][0]["result"].update(accepted=False)),
        "header edited": altered(lambda a: a["blocks"][height]["header"].update(time_ms=1)),
        "no commit votes": altered(lambda a: a["blocks"][height]["commit"].update(signatures=[])),
    }

    async def scenario():
        async with Page(browser.port) as page:
            await page.navigate(f"http://127.0.0.1:{node.rpc_port}/")
            return await page.evaluate(f"""(async () => {{
                const v = await import('/explorer/js/verify.js');
                const cases = {json.dumps(cases)};
                const out = {{}};
                for (const [name, answer] of Object.entries(cases)) {{
                    const verdict = (await v.verifyAnswer(answer, {json.dumps(validators)}))
                        .get({json.dumps(first["tx_id"])});
                    out[name] = [verdict.status, verdict.checks];
                }}
                return out;
            }})()""")

    results = asyncio.run(scenario())
    assert results["genuine"][0] == "verified"
    expected_failure = {"mass changed": "txId", "index moved": "included",
                        "proof padded": "included", "result flipped": "result",
                        "header edited": "header", "no commit votes": "quorum"}
    for name, check in expected_failure.items():
        status, checks = results[name]
        assert status == "failed" and checks[check] == "failed", (name, checks)
