"""The page's JavaScript hashing agrees with the node's Python: RFC 6962 inclusion proofs
over many tree shapes, and the canonical msgpack encoding at every size boundary."""

import asyncio
import json
import random

from aiohttp import web

from node import codec
from node.explorer.routes import register_routes
from node.merkle import inclusion_proof, merkle_root, verify_inclusion
from tests.explorer.browser import Page
from tests.helpers import free_port

# Values on each side of msgpack's size thresholds, where the smallest encoding changes.
CANONICAL_CASES = [
    0, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 1_795_200_000_000, 2**53 - 1,
    -1, -32, -33, -128, -129, -32768, -32769, -(2**31), -(2**31) - 1, -(2**53) + 1,
    "", "a" * 31, "a" * 32, "a" * 255, "a" * 256, "a" * 65536, "Ünïcødé lot", True, False, None,
    list(range(15)), list(range(16)), list(range(65536)),
    {"b": 1, "a": 2, "é": 3, "Z": 4}, {str(i): i for i in range(16)},
    ["orechain-devnet-1", "assay", {"lot_id": "PK-CU-1", "composition": {"Cu": 6200}}],
]


async def _in_browser(port: int, expression: str) -> tuple[object, list[str]]:
    app = web.Application()
    register_routes(app)
    runner = web.AppRunner(app)
    await runner.setup()
    http_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", http_port).start()
    try:
        async with Page(port) as page:
            # Served from 127.0.0.1, the page is a secure context and has WebCrypto.
            await page.navigate(f"http://127.0.0.1:{http_port}/explorer/index.html")
            return await page.evaluate(expression), page.errors
    finally:
        await runner.cleanup()


def test_inclusion_proofs_match_the_node_for_every_position(browser):
    rng = random.Random(6962)
    cases = []
    for size in [*range(1, 18), 31, 32, 33, 100]:
        leaves = [rng.randbytes(32) for _ in range(size)]
        root = merkle_root(leaves).hex()
        for index in range(size):
            proof = [p.hex() for p in inclusion_proof(leaves, index)]
            cases.append([leaves[index].hex(), index, size, proof, root])
        wrong = (size // 2 + 1) % size
        if wrong != size // 2:  # the proof of one position must not prove another
            cases.append([leaves[size // 2].hex(), wrong, size,
                          [p.hex() for p in inclusion_proof(leaves, size // 2)], root])
        cases.append([leaves[-1].hex(), size - 1, size + 1,
                      [p.hex() for p in inclusion_proof(leaves, size - 1)], root])
        cases.append([leaves[0].hex(), 0, size, ["00" * 32], root])

    results, errors = asyncio.run(_in_browser(browser.port, f"""(async () => {{
        const v = await import('/explorer/js/verify.js');
        const out = [];
        for (const [leaf, index, size, proof, root] of {json.dumps(cases)}) {{
            out.push(await v.verifyInclusion(v.fromHex(leaf), index, size, proof,
                                             v.fromHex(root)));
        }}
        return out;
    }})()"""))
    assert errors == []
    # The node's own verifier is the oracle, for the proofs that fail as much as the rest.
    expected = [verify_inclusion(bytes.fromhex(leaf), index, size,
                                 [bytes.fromhex(p) for p in proof], bytes.fromhex(root))
                for leaf, index, size, proof, root in cases]
    assert results == expected
    assert sum(expected) > 200 and len(expected) - sum(expected) > 40


def test_canonical_encoding_matches_the_node_byte_for_byte(browser):
    results, errors = asyncio.run(_in_browser(browser.port, f"""(async () => {{
        const c = await import('/explorer/js/canonical.js');
        const v = await import('/explorer/js/verify.js');
        return {json.dumps(CANONICAL_CASES)}.map((value) => v.toHex(c.encode(value)));
    }})()"""))
    assert errors == []
    assert results == [codec.encode(value).hex() for value in CANONICAL_CASES]
