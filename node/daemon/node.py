"""Wires one running node: store, ledger, mempool, block production, RPC; the lifecycle.

This is the composition root: the only module that knows every subsystem.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from typing import Any

from aiohttp import web

from node import codec
from node.crypto import load_key_file
from node.daemon.bft import BftDriver
from node.daemon.config import ConfigError, NodeConfig
from node.daemon.durability import SyncBarrier
from node.daemon.gctune import tune_for_node
from node.daemon.ledger import Ledger, Rejected
from node.daemon.logs import HEIGHT
from node.daemon.mempool import Mempool, MempoolFull
from node.daemon.network import Network
from node.epcis.routes import register_routes as register_epcis
from node.explorer.routes import register_routes as register_explorer
from node.merkle import sha256
from node.metrics.node_metrics import NodeMetrics
from node.metrics.process import register_process_metrics
from node.metrics.routes import register_routes as register_metrics
from node.p2p import Channel, P2PConfig, PeerManager
from node.provenance.schema import EVIDENCE_KIND
from node.rpc.access import AccessPolicy, RateLimiter
from node.rpc.methods import RpcApi
from node.rpc.openrpc import openrpc_document
from node.rpc.server import MAX_BODY_BYTES, JsonRpcServer
from node.store import BlockStore, StoreError
from node.store.integrity import check_node_data
from node.types import Block, Commit, Tx, Vote

log = logging.getLogger("orechain.node")


# The settings that make a node a leaf: each mutes a channel its peers would relay to
# it, and names what a validator would miss without it.
_LEAF_SETTINGS = (
    ("tx_relay", Channel.TX, "the events its peers relay, to propose them"),
    ("consensus_relay", Channel.CONSENSUS, "the proposals and votes of the others"),
)


def muted_channels(config: NodeConfig) -> frozenset[Channel]:
    """The channels this node asks its peers not to send (its leaf settings set false)."""
    return frozenset(channel for name, channel, _ in _LEAF_SETTINGS
                     if not getattr(config, name))


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class Node:
    def __init__(self, config: NodeConfig) -> None:
        self.config = config
        self.genesis = config.load_genesis()
        passphrase = config.passphrase()
        self.key = load_key_file(config.key_path, passphrase)
        self.org_key = (load_key_file(config.org_key_path, passphrase)
                        if config.org_key_file else None)
        # Damaged data is refused with a recovery path before anything opens it.
        check_node_data(config.data_dir, self.genesis)
        self.store = BlockStore(config.data_dir / "chain")
        self.store.load_final_ids()
        self.ledger = Ledger(self.store, self.genesis)
        self.mempool = Mempool(self.store, config.data_dir / "mempool.journal")
        self._durable = SyncBarrier(self.mempool.sync)
        self.is_validator = self.genesis.validators.get(self.key.public_key) is not None
        for name, _, needs in _LEAF_SETTINGS:
            if self.is_validator and not getattr(config, name):
                raise ConfigError(f"{name} = false is for nodes that never propose or vote; "
                                  f"this node's key is a validator's, and a validator needs "
                                  f"{needs}: set {name} = true")
        self.peers = PeerManager(
            self.key, self.genesis.chain_id, {n.node_key for n in self.genesis.nodes},
            listen=(config.p2p_host, config.p2p_port), dial=Network.parse_peers(config.peers),
            config=P2PConfig(muted_channels=muted_channels(config)))
        self.driver = (BftDriver(self.ledger, self.mempool, self.key, config.data_dir,
                                 wall_clock_ms, self._publish_consensus, self._resend_consensus,
                                 self._publish_block)
                       if self.is_validator else None)
        if self.driver is not None:
            self.driver.on_evidence = self._report_equivocation
        self.network = Network(self.ledger, self.mempool, self.peers, self.driver,
                               self._wake_driver)
        self.metrics = NodeMetrics()
        register_process_metrics(self.metrics.registry)
        self.ledger.on_commit = lambda block, commit: self.metrics.block_final(
            commit.round, block.tx_ids)
        self.metrics.bind(height=lambda: self.ledger.height, peers=lambda: len(self.peers.peers()),
                          mempool_size=lambda: len(self.mempool),
                          peer_heights=lambda: self.network.peer_heights.values(),
                          traffic=self.peers.traffic,
                          signatures=self._signature_counts)
        HEIGHT.height = lambda: self.ledger.height
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None

    def _signature_counts(self) -> tuple[int, int]:
        return self.ledger.signatures.verified, self.ledger.signatures.hits

    # --- the submit path ------------------------------------------------------------

    async def submit(self, tx: Tx) -> str:
        """Idempotent: a tx already final, rejected or pending returns its status."""
        status, *_ = self.ledger.tx_status(tx.tx_id)
        if status != "unknown":
            return status
        if tx.tx_id not in self.mempool:
            self._refuse_if_busy()
            height = self.ledger.height
            await self.ledger.preverify([tx])
            # A block carrying it may have been committed while the signature was checked.
            if self.ledger.height != height:
                status, *_ = self.ledger.tx_status(tx.tx_id)
                if status != "unknown":
                    return status
        if tx.tx_id in self.mempool:    # possibly relayed by a peer while verifying
            await self._durable.wait()  # it may have arrived a moment ago, not yet synced
            return "pending"
        self.ledger.check_tx(tx)
        self.mempool.add(tx, durable=False)
        await self._durable.wait()
        self.metrics.tx_submitted(tx.tx_id)
        self.network.publish_tx(tx)
        self._wake_driver()
        return "pending"

    def _refuse_if_busy(self) -> None:
        """Past `submit_max_pending` a new event is refused before any work is spent on
        it: the client retries later instead of waiting behind a backlog (relayed events,
        already acknowledged elsewhere, are still taken up to the mempool's capacity)."""
        limit = self.config.submit_max_pending
        if limit and len(self.mempool) >= limit:
            raise MempoolFull(f"busy: {len(self.mempool)} events wait for a block here, the "
                              f"limit for new submissions (submit_max_pending = {limit}); "
                              "retry in a few seconds")

    def _report_equivocation(self, first: Vote, second: Vote) -> None:
        """Put a validator's two conflicting votes on chain, signed with this node's key.

        The nonce is derived from the votes, so reporting the same fault again is the
        same tx (a duplicate), while other nodes' reports of it are rejected on chain
        as already recorded."""
        body = {"first": codec.encode(first.to_wire()).hex(),
                "second": codec.encode(second.to_wire()).hex()}
        nonce = int.from_bytes(sha256(codec.encode(body))[:7], "big")
        tx = Tx(self.genesis.chain_id, EVIDENCE_KIND, body, self.key.public_key,
                nonce).signed(self.key)
        if tx.tx_id in self.mempool or self.ledger.store.tx_location(tx.tx_id) is not None:
            return
        try:
            self.ledger.check_tx(tx)
            self.mempool.add(tx)
        except (Rejected, MempoolFull, StoreError) as exc:
            log.warning("could not report equivocation: %s", exc)
            return
        self.network.publish_tx(tx)
        self._wake_driver()

    def _wake_driver(self) -> None:
        if self.driver is not None:
            self.driver.wake()

    def _publish_consensus(self, payload: list[Any]) -> None:
        self.network.publish_consensus(payload)

    def _resend_consensus(self, payload: list[Any], node_key: bytes | None) -> None:
        self.network.resend_consensus(payload, node_key)

    def _publish_block(self, block: Block, commit: Commit) -> None:
        self.network.publish_block(block, commit)

    def pending(self, tx_id: bytes) -> Tx | None:
        return self.mempool.get(tx_id)

    def status(self) -> dict[str, Any]:
        entry = next((n for n in self.genesis.nodes if n.node_key == self.key.public_key), None)
        return {
            "node_id": self.key.public_key.hex(),
            "moniker": self.config.moniker,
            "name": entry.name if entry else None,
            "org": entry.org if entry else None,
            "role": "validator" if self.is_validator else "full",
            "validator": self.is_validator,
            "tx_relay": self.config.tx_relay,
            "consensus_relay": self.config.consensus_relay,
            "chain_id": self.genesis.chain_id,
            "height": self.ledger.height,
            "head_hash": self.ledger.head_hash.hex(),
            "peers": [{"node_id": p.node_key.hex(), "address": f"{p.address[0]}:{p.address[1]}",
                       "outbound": p.outbound, "score": p.score,
                       "height": self.network.peer_heights.get(p.node_key),
                       "sent_bytes": p.sent_bytes, "received_bytes": p.received_bytes}
                      for p in self.peers.peers()],
            "p2p_bytes": dict(zip(("sent", "received"), self.peers.traffic(), strict=True)),
            "syncing": self.network.syncing,
            "clock_skew_ms": self.driver.clock.skew_estimate_ms() if self.driver else None,
            "clock_suspect": self.driver.clock.own_clock_suspect() if self.driver else False,
            "mempool_size": len(self.mempool),
            # Ed25519 checks run (events, votes, certificates) and those the cache of
            # verified signatures answered instead: each signature is checked once.
            "signatures": {"verified": self.ledger.signatures.verified,
                           "cache_hits": self.ledger.signatures.hits},
            "rpc": f"http://{self.config.rpc_host}:{self.config.rpc_port}/rpc",
        }

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        api = RpcApi(self, openrpc_document())
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        limiter = RateLimiter(self.config.rpc_rate_per_s, self.config.rpc_burst, time.monotonic)
        handlers = self.metrics.instrument_rpc(api.handlers())
        policy = AccessPolicy(self.config.rpc_token, limiter)
        JsonRpcServer(handlers, policy).routes(app)
        register_epcis(app, self, policy.may_write)
        register_metrics(app, self.metrics.registry)
        register_explorer(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.rpc_host, self.config.rpc_port)
        await site.start()
        await self.network.start()
        if self.driver is not None:
            self.driver.start()
        log.info("node %s up: chain %s height %d, rpc http://%s:%d/rpc",
                 self.config.moniker, self.genesis.chain_id, self.ledger.height,
                 self.config.rpc_host, self.config.rpc_port)

    async def stop(self) -> None:
        if self.driver is not None:
            await self.driver.stop()
        await self.network.stop()
        if self._runner is not None:
            await self._runner.cleanup()
        self.mempool.close()
        self.store.close()
        log.info("node %s stopped at height %d", self.config.moniker, self.ledger.height)

    async def run_until_signalled(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._stopping.set)
        await self.start()
        tune_for_node()
        try:
            await self._stopping.wait()
        finally:
            with contextlib.suppress(Exception):
                await self.stop()
