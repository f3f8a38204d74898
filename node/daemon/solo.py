"""Block production for a chain whose validator set is this node alone.

The sole validator builds a block from the mempool whenever events are pending,
signs its own precommit (the whole commit certificate) and commits it. A multi-
validator set goes through node.consensus instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from node.crypto import PrivateKey
from node.daemon.ledger import Ledger
from node.daemon.mempool import Mempool
from node.types import PRECOMMIT, Commit
from node.types.vote import vote_sign_bytes

log = logging.getLogger("orechain.solo")


class SoloProducer:
    def __init__(self, ledger: Ledger, mempool: Mempool, key: PrivateKey,
                 clock_ms: Callable[[], int]) -> None:
        self.ledger = ledger
        self.mempool = mempool
        self.key = key
        self.clock_ms = clock_ms
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        validators = ledger.genesis.validators
        self.enabled = (len(validators.validators) == 1
                        and validators.get(key.public_key) is not None)

    def start(self) -> None:
        if self.enabled:
            self._task = asyncio.create_task(self._loop(), name="solo-producer")
            if len(self.mempool):
                self.wake()

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        interval = self.ledger.genesis.params["block_interval_ms"] / 1000
        while True:
            await self._wake.wait()
            self._wake.clear()
            # Gather a batch: events arriving together go into one block.
            await asyncio.sleep(interval)
            while len(self.mempool):
                self.produce_one()
                await asyncio.sleep(0)

    def produce_one(self) -> None:
        params = self.ledger.genesis.params
        txs = self.mempool.reap(params["max_block_txs"], params["max_block_bytes"] - 4096)
        executed = self.ledger.build_block(self.clock_ms(), self.key.public_key, txs)
        block = executed.block
        signature = self.key.sign(vote_sign_bytes(self.ledger.chain_id, PRECOMMIT,
                                                  block.height, 0, block.hash))
        commit = Commit(block.height, 0, block.hash, ((self.key.public_key, signature),))
        self.ledger.commit(executed, commit)
        self.mempool.remove_committed(block.tx_ids)
        log.info("committed block %d with %d txs", block.height, len(txs))
