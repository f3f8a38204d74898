"""`orechain status`: the health verdict and the sync progress bar."""

from node.cli.status import progress_bar, render, verdict

BASE = {"name": "mine-1-node", "moniker": "mine-1-node", "role": "full", "org": "mine-1",
        "chain_id": "orechain-devnet-1", "height": 40, "head_hash": "ab" * 32,
        "mempool_size": 3, "version": "0.1.0", "syncing": False}


def peer(height):
    return {"node_id": "cd" * 32, "address": "127.0.0.1:26656", "outbound": True,
            "score": 0, "height": height}


def test_verdicts():
    assert verdict({**BASE, "peers": []}).startswith("ISOLATED")
    assert verdict({**BASE, "peers": [peer(40)]}).startswith("OK")
    behind = verdict({**BASE, "peers": [peer(100)]})
    assert behind.startswith("SYNCING") and "60 blocks behind" in behind
    skewed = verdict({**BASE, "peers": [peer(40)], "clock_suspect": True, "clock_skew_ms": -9000})
    assert skewed.startswith("CLOCK") and "9000 ms" in skewed


def test_progress_bar_and_render():
    assert progress_bar(0, 10).startswith("[" + "." * 30 + "]")
    assert progress_bar(5, 10).startswith("[" + "#" * 15 + "." * 15 + "]")
    assert progress_bar(10, 10).endswith("(100%)")
    text = render({**BASE, "peers": [peer(80)]})
    assert "sync:" in text and "40/80 (50%)" in text and "mine-1-node (full" in text
    assert "sync:" not in render({**BASE, "peers": [peer(40)]})


def test_render_says_what_a_leaf_node_does_not_take():
    full = render({**BASE, "peers": [peer(40)]})
    assert "takes no relayed events" not in full and "takes no votes" not in full
    leaf = render({**BASE, "peers": [peer(40)], "tx_relay": False, "consensus_relay": False})
    assert "(its own: takes no relayed events)" in leaf
    assert "arrive final, with their certificates (takes no votes)" in leaf
