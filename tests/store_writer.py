"""Commits blocks to a store as fast as it can until killed (used by the crash test)."""

import sys
from pathlib import Path

from node.crypto import PrivateKey
from node.merkle import merkle_root
from node.store import BlockStore, Overlay, keys
from node.types import PRECOMMIT, Block, Commit, Header, Tx, TxResult, results_root
from node.types.vote import vote_sign_bytes

KEY = PrivateKey(b"\x05" * 32)
GENESIS = b"\x00" * 32


def block_after(store: BlockStore, n_txs: int) -> tuple[Block, list[TxResult], Overlay]:
    height, parent = store.head()
    txs = tuple(Tx("c", "register_lot", {"lot_id": f"L{height + 1}-{i}"}, KEY.public_key,
                   height * 1000 + i).signed(KEY) for i in range(n_txs))
    results = [TxResult(t.tx_id, True) for t in txs]
    header = Header("c", height + 1, height + 1, parent, merkle_root([t.tx_id for t in txs]),
                    len(txs), results_root(results), b"\x00" * 32, KEY.public_key)
    state = Overlay(store)
    state.put(keys.param_key("counter"), keys.u64(height + 1))
    for t in txs:
        state.put(keys.lot_key(t.body["lot_id"]), t.tx_id)
    return Block(header, txs), results, state


def commit_for(block: Block) -> Commit:
    sig = KEY.sign(vote_sign_bytes("c", PRECOMMIT, block.height, 0, block.hash))
    return Commit(block.height, 0, block.hash, ((KEY.public_key, sig),))


def commit_next(store: BlockStore, n_txs: int) -> tuple[Block, list[TxResult]]:
    """Commit a block of `n_txs` txs on the head; its block and results."""
    block, results, state = block_after(store, n_txs)
    store.commit_block(block, commit_for(block), results, state)
    return block, results


def main() -> None:
    store = BlockStore(Path(sys.argv[1]))
    store.init_genesis(GENESIS, Overlay(store))
    print("ready", flush=True)
    while True:
        commit_next(store, 50)


if __name__ == "__main__":
    main()
