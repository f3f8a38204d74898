"""The node on the operator network: tx, consensus and block gossip, and catch-up sync.

Signatures of consensus messages are checked here, before the consensus driver sees
them (it trusts its inputs). Sync fetches final blocks with their commit
certificates in batches from any peer, verifies and applies them, then follows
the live gossip of committed blocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from node import codec
from node.daemon.bft import PROPOSAL_MSG, VOTE_MSG, BftDriver
from node.daemon.ledger import InvalidBlock, Ledger, Rejected
from node.daemon.mempool import Mempool
from node.p2p import (
    Announcer,
    Channel,
    Gossip,
    InvalidMessage,
    P2PError,
    PeerAddress,
    PeerManager,
    Verdict,
)
from node.p2p.gossip import INVALID_GOSSIP_PENALTY
from node.p2p.message import MALFORMED_PENALTY
from node.store import StoreError
from node.types import Block, Commit, Proposal, Tx, TxFormatError, Vote

log = logging.getLogger("orechain.net")

SYNC_BATCH = 200
SYNC_MAX_BYTES = 3 * 1024 * 1024
SYNC_IDLE_SECONDS = 1.0
# A TX gossip batch stays far below the 4 MiB frame limit and the TX send queue's
# message budget, so one slow peer cannot make a batch (and its events) drop.
TX_BATCH_MAX_BYTES = 256 * 1024
TX_BATCH_MAX_COUNT = 2_000


class Network:
    def __init__(self, ledger: Ledger, mempool: Mempool, peers: PeerManager,
                 driver: BftDriver | None, on_new_tx: Callable[[], None]) -> None:
        self.ledger = ledger
        self.mempool = mempool
        self.peers = peers
        self.driver = driver
        self._on_new_tx = on_new_tx
        self.syncing = False
        self.peer_heights: dict[bytes, int] = {}
        # Peers an idle sync probe found one block ahead, with this node's height then.
        self._one_ahead: dict[bytes, int] = {}
        self._sync_wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._probes: dict[bytes, asyncio.Future[None]] = {}   # each peer's probe in flight
        self._tx_outbox: list[bytes] = []
        # A tx batch or a proposal reaches every peer of its origin directly, and each
        # validator commits a final block on its own: in a mesh most relayed copies
        # are redundant, so large ones are offered by id and pulled only where missing.
        self.announcer = Announcer(peers)
        self.txs = Gossip(peers, Channel.TX, self._receive_tx, announcer=self.announcer)
        self.consensus = Gossip(peers, Channel.CONSENSUS, self._receive_consensus,
                                announcer=self.announcer)
        self.blocks = Gossip(peers, Channel.BLOCK, self._receive_block,
                             announcer=self.announcer, hint=_claimed_height,
                             wants=self._wants_block)
        peers.on_request(Channel.SYNC_REQUEST, self._serve_sync)
        peers.on_peer_connected(self._forward_pending)

    @staticmethod
    def parse_peers(texts: list[str]) -> list[PeerAddress]:
        return [PeerAddress.parse(t) for t in texts]

    async def start(self) -> None:
        await self.peers.start()
        self._task = asyncio.create_task(self._sync_loop(), name="sync")

    async def stop(self) -> None:
        for task in [self._task, *self._probes.values()]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.peers.stop()

    # --- txs ---------------------------------------------------------------------------

    def publish_tx(self, tx: Tx) -> None:
        """Queue `tx` for the next TX gossip message.

        Txs accepted in one turn of the event loop (a JSON-RPC batch, a gossip batch)
        travel as one message: per-message costs (framing, encryption, the seen-set)
        are then paid per batch, not per event.
        """
        self._tx_outbox.append(tx.encoded)
        if len(self._tx_outbox) == 1:
            asyncio.get_running_loop().call_soon(self._flush_txs)

    def _flush_txs(self) -> None:
        outbox, self._tx_outbox = self._tx_outbox, []
        for chunk in _tx_chunks(outbox):
            self.txs.publish(chunk)

    def _forward_pending(self, peer: Any) -> None:
        """A peer came (back): hand it every pending tx (a mine site's offline backlog)
        and this validator's messages of the height in progress."""
        if self.driver is not None:
            self.driver.peer_connected(peer.node_key)
        pending = [tx.encoded for tx in map(self.mempool.get, self.mempool.ids()) if tx]
        for chunk in _tx_chunks(pending):
            self.peers.send(peer.node_key, Channel.TX, chunk)

    async def _receive_tx(self, sender: bytes, payload: Any) -> Verdict:
        """A TX message is one encoded tx (bytes) or a batch of them (a list)."""
        blobs = payload if isinstance(payload, list) else [payload]
        if not blobs or len(blobs) > TX_BATCH_MAX_COUNT:
            return Verdict.INVALID
        txs = []
        for blob in blobs:
            try:
                txs.append(Tx.decode(blob))
            except (TxFormatError, TypeError):
                return Verdict.INVALID
        fresh = [tx for tx in txs if not self._known(tx)]
        height = self.ledger.height
        await self.ledger.preverify(fresh)
        # Admitted by another path, or (only if a block was committed) final, while this
        # batch was being verified.
        moved = self.ledger.height != height
        admitted, refused = [], False
        for tx in fresh:
            if tx.tx_id in self.mempool or (moved and self._known(tx)):
                continue
            try:
                self.ledger.check_tx(tx)
                admitted.append(tx)
            except Rejected:
                refused = True         # the rest of the batch is still taken
        try:
            added = self.mempool.add_relayed(admitted)
        except StoreError:
            added = []
        if added:
            self._on_new_tx()
        if refused:
            return Verdict.INVALID
        return Verdict.ACCEPT if added else Verdict.IGNORE

    def _known(self, tx: Tx) -> bool:
        return tx.tx_id in self.mempool or self.ledger.store.tx_location(tx.tx_id) is not None

    # --- consensus messages ----------------------------------------------------------------

    def publish_consensus(self, payload: list[Any]) -> None:
        self.consensus.publish(payload)

    def resend_consensus(self, payload: list[Any], node_key: bytes | None) -> None:
        """Send again, past the gossip seen-set (receivers de-duplicate)."""
        if node_key is None:
            self.peers.broadcast(Channel.CONSENSUS, payload)
        else:
            self.peers.send(node_key, Channel.CONSENSUS, payload)

    async def _receive_consensus(self, sender: bytes, payload: Any) -> Verdict:
        try:
            if not isinstance(payload, list) or not payload:
                return Verdict.INVALID
            if payload[0] == PROPOSAL_MSG and len(payload) == 3:
                proposal = Proposal.from_wire(payload[1])
                signer, message, signature = (proposal.proposer, proposal.sign_bytes,
                                              proposal.signature)
                height, chain_id = proposal.height, proposal.chain_id
            elif payload[0] == VOTE_MSG and len(payload) == 2:
                vote = Vote.from_wire(payload[1])
                signer, message, signature = vote.validator, vote.sign_bytes, vote.signature
                height, chain_id = vote.height, vote.chain_id
            else:
                return Verdict.INVALID
        except (ValueError, TypeError):
            return Verdict.INVALID
        if chain_id != self.ledger.chain_id:
            return Verdict.INVALID
        if self.ledger.validators_at(height).get(signer) is None:
            return Verdict.IGNORE if height > self.ledger.height + 2 else Verdict.INVALID
        if not self.ledger.signatures.verify(signer, message, signature):
            return Verdict.INVALID
        self.peer_heights[sender] = max(self.peer_heights.get(sender, 0), height - 1)
        if height <= self.ledger.height:
            return Verdict.IGNORE
        if height > self.ledger.height + 1:
            # The network is ahead: sync first. The message is not remembered as seen,
            # so its periodic re-send reaches the driver once this node is at that height
            # (the core of the height in progress is replaced when sync moves the head).
            self._sync_wakeup.set()
            return Verdict.IGNORE
        if self.driver is not None:
            self.driver.on_message(payload)
        return Verdict.ACCEPT

    # --- committed blocks -------------------------------------------------------------------

    def publish_block(self, block: Block, commit: Commit) -> None:
        self.blocks.offer([block.encoded, codec.encode(commit.to_wire())])

    def _wants_block(self, sender: bytes, height: int) -> bool:
        """Fetch an offered final block only if it is the next one; one further ahead
        means this node is behind, which sync catches up in batches."""
        if height > self.ledger.height + 1:
            # The offer says the sender has the block: a source for sync.
            self.peer_heights[sender] = max(self.peer_heights.get(sender, 0), height)
            self._sync_wakeup.set()
        return height == self.ledger.height + 1

    async def _receive_block(self, sender: bytes, payload: Any) -> Verdict:
        # Every peer relays each final block, and validators have it already: those
        # copies are dropped by their claimed height, before any tx is decoded.
        claimed = _claimed_height(payload)
        if 0 < claimed <= self.ledger.height:
            return Verdict.IGNORE
        try:
            block, commit = _decode_final(payload, self.mempool.get)
        except ValueError:
            return Verdict.INVALID
        self.peer_heights[sender] = max(self.peer_heights.get(sender, 0), block.height)
        if block.height <= self.ledger.height:
            return Verdict.IGNORE
        if block.height > self.ledger.height + 1:
            self._sync_wakeup.set()
            return Verdict.IGNORE
        try:
            self._apply_final(block, commit)
        except InvalidBlock as exc:
            log.warning("gossiped block %d refused: %s", block.height, exc)
            return Verdict.INVALID
        except StoreError as exc:
            # This node's disk, not the block: sync fetches it again once writes work.
            log.warning("gossiped block %d not stored: %s", block.height, exc)
            return Verdict.IGNORE
        return Verdict.ACCEPT

    def _apply_final(self, block: Block, commit: Commit) -> None:
        # A validator that already executed this block as a proposal (a peer decided it
        # first) commits that execution: ledger.commit checks the certificate either way.
        executed = self.driver.executed(block.hash) if self.driver is not None else None
        if executed is None:
            executed = self.ledger.validate_block(block, commit)
        self.ledger.commit(executed, commit)
        self.mempool.remove_committed(block.tx_ids)
        if self.driver is not None:
            self.driver.restart_at_head()

    # --- sync ---------------------------------------------------------------------------------

    async def _serve_sync(self, sender: bytes, body: Any) -> list[Any]:
        if not (isinstance(body, list) and len(body) == 2
                and all(isinstance(x, int) and not isinstance(x, bool) for x in body)):
            raise InvalidMessage("a sync request is [from_height, count]", MALFORMED_PENALTY)
        start, count = body
        out: list[Any] = [self.ledger.height]
        size = 0
        for height in range(max(start, 1), min(start + min(count, SYNC_BATCH),
                                               self.ledger.height + 1)):
            final = self.ledger.store.final_block_bytes(height)
            if final is None:
                break
            size += len(final[0])
            if size > SYNC_MAX_BYTES and len(out) > 1:
                break
            out.append(list(final))
        return out

    async def _sync_loop(self) -> None:
        while True:
            woken = False
            with contextlib.suppress(asyncio.TimeoutError):
                woken = await asyncio.wait_for(self._sync_wakeup.wait(), SYNC_IDLE_SECONDS)
            self._sync_wakeup.clear()
            self._probe_peers()
            for node_key in self._sync_sources(woken):
                # Still ahead after catching up from the sources before it?
                if self.peer_heights.get(node_key, 0) > self.ledger.height:
                    await self._guarded(node_key, self._sync_from(node_key))
            self.syncing = False

    def _sync_sources(self, woken: bool) -> list[bytes]:
        """The connected peers last known to be ahead of this node, highest first.

        Only a height a peer reported counts, so a peer that stopped answering (a
        paused process, a hung disk) is not asked again until it answers a probe: it
        never holds up a catch-up from the others. One ahead is normal for a moment (the
        peer committed a height first); such a peer is a source only when something
        woke the loop (a gossiped block or vote from further on, or a probe that found
        it one ahead twice at the same height of this node)."""
        own = self.ledger.height
        ahead = [(height, key) for key in self.peers.connected_keys()
                 if (height := self.peer_heights.get(key, 0)) > own + (0 if woken else 1)]
        return [key for _, key in sorted(ahead, reverse=True)]

    def _probe_peers(self) -> None:
        """Ask every connected peer for its height, each on its own: a peer that does
        not answer delays nobody but itself (its next probe waits for this one)."""
        for node_key in self.peers.connected_keys():
            if node_key not in self._probes:
                task = asyncio.ensure_future(self._guarded(node_key, self._probe(node_key)))
                self._probes[node_key] = task
                task.add_done_callback(lambda _, key=node_key: self._probes.pop(key, None))

    async def _probe(self, node_key: bytes) -> None:
        own = self.ledger.height
        head = await self._peer_head(node_key, own + 1)
        fetch, remember = fetch_after_probe(own, head, self._one_ahead.pop(node_key, None))
        if remember is not None:
            self._one_ahead[node_key] = remember
        if fetch and self.ledger.height == own:
            self._sync_wakeup.set()

    async def _guarded(self, node_key: bytes, exchange: Awaitable[None]) -> None:
        """One sync exchange with one peer (a probe, or a catch-up). Whatever goes wrong
        ends only this exchange, and the peer's height is forgotten until it reports one
        again: a fault here (a silent or hostile peer, a full disk, a bug) never leaves
        the node unable to catch up from the others, or later."""
        name = node_key.hex()[:16]
        try:
            await exchange
            return
        except (P2PError, TimeoutError) as exc:
            log.info("sync from %s stopped: %s", name, exc)
        except ValueError as exc:
            # A reply out of shape or a final block that fails validation (InvalidBlock
            # is a ValueError): the fault of gossiping one, at the same price.
            log.warning("sync from %s stopped: %s", name, exc)
            self.peers.penalise(node_key, INVALID_GOSSIP_PENALTY, f"invalid sync reply: {exc}")
        except StoreError as exc:
            log.warning("sync from %s stopped: %s", name, exc)
        except Exception:
            log.exception("sync from %s failed", name)
        self.peer_heights.pop(node_key, None)

    async def _sync_from(self, node_key: bytes) -> None:
        """Fetch and apply batches of final blocks until the peer has no more. The next
        batch is asked for before this one is applied, so the peer reads and sends it
        while this node executes (on another core)."""
        start = self.ledger.height + 1
        pending = asyncio.ensure_future(self._sync_batch(node_key, start))
        try:
            while True:
                items = await pending
                if not items:
                    return
                asked, start = start, start + len(items)
                pending = asyncio.ensure_future(self._sync_batch(node_key, start))
                await asyncio.sleep(0)          # let the request leave before executing
                for item in items:
                    if asked <= _claimed_height(item) <= self.ledger.height:
                        continue                # arrived meanwhile by consensus or gossip
                    block, commit = _decode_final(item, self.mempool.get)
                    if block.height != self.ledger.height + 1:
                        raise ValueError("sync reply out of order")
                    self._apply_final(block, commit)
                log.info("synced to height %d from %s", self.ledger.height,
                         node_key.hex()[:16])
        finally:
            if not pending.done():
                pending.cancel()
            elif not pending.cancelled():
                pending.exception()             # a failed prefetch is not an error here

    async def _sync_batch(self, node_key: bytes, start: int) -> list[Any]:
        """The final blocks a peer sends from height `start` on (none at its head)."""
        reply = await self._sync_request(node_key, start, SYNC_BATCH)
        if reply[0] >= start:
            self.syncing = True
            if len(reply) == 1:
                # A peer at that height always sends at least the block at `start`.
                raise ValueError(f"sync reply claims height {reply[0]} but holds no block "
                                 f"from height {start}")
        return reply[1:]

    async def _peer_head(self, node_key: bytes, start: int) -> int:
        """A peer's height, by a sync request for no blocks."""
        return (await self._sync_request(node_key, start, 0))[0]

    async def _sync_request(self, node_key: bytes, start: int, count: int) -> list[Any]:
        reply = await self.peers.request(node_key, Channel.SYNC_REQUEST, [start, count])
        if not isinstance(reply, list) or not reply or not isinstance(reply[0], int):
            raise ValueError("malformed sync reply")
        self.peer_heights[node_key] = reply[0]
        return reply


def fetch_after_probe(own: int, head: int, one_ahead_at: int | None) -> tuple[bool, int | None]:
    """Whether to fetch blocks from a peer whose height a probe found to be `head`, this
    node being at `own`; and the height to remember the peer as one ahead of, if any.

    Two or more ahead: fetch. One ahead is normal for a moment (the peer committed a
    height first and this node is about to): fetch only if the last probe found the
    peer one ahead of this same height (`one_ahead_at`), so this node is stuck."""
    if head >= own + 2:
        return True, None
    if head == own + 1:
        return (True, None) if one_ahead_at == own else (False, own)
    return False, None


def _tx_chunks(blobs: list[bytes]) -> list[list[bytes]]:
    """`blobs` cut into TX gossip batches within the count and byte limits."""
    chunks: list[list[bytes]] = []
    size = 0
    for blob in blobs:
        if not chunks or len(chunks[-1]) >= TX_BATCH_MAX_COUNT or \
                size + len(blob) > TX_BATCH_MAX_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append(blob)
        size += len(blob)
    return chunks


def _claimed_height(payload: Any) -> int:
    """The height a final block message's header claims (0 if it names none), read
    without decoding its txs."""
    claimed = (Block.claimed_height(payload[0])
               if isinstance(payload, list) and payload and isinstance(payload[0], bytes)
               else None)
    return claimed if claimed is not None and claimed > 0 else 0


def _decode_final(payload: Any, known: Callable[[bytes], Tx | None]) -> tuple[Block, Commit]:
    if not (isinstance(payload, list) and len(payload) == 2
            and all(isinstance(p, bytes) for p in payload)):
        raise ValueError("a final block is [block, commit]")
    block = Block.decode(payload[0], known=known)
    commit = Commit.from_wire(codec.decode(payload[1]))
    return block, commit
