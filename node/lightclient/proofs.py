"""Checks of what each part proves on its own: an event is the signed tx it claims,
included under its block's tx_root with an accepted result under its results_root; a
block is final under the validator set in force at its height."""

from __future__ import annotations

from node.lightclient.answer import ProvenBlock, ProvenEvent
from node.lightclient.errors import VerificationError
from node.merkle import verify_inclusion
from node.types import CommitError, Header, ValidatorSet, verify_commit
from node.types.vote import Verifier


def check_event(event: ProvenEvent, chain_id: str, header: Header | None) -> None:
    """Raise VerificationError unless `event` is proven by the block `header` (its
    signature is checked apart, see node.lightclient.signatures)."""
    where, tx = event.where, event.tx
    if tx.tx_id.hex() != event.tx_id_hex:
        raise VerificationError(f"{where}: tx does not hash to its tx_id")
    if tx.chain_id != chain_id:
        raise VerificationError(f"{where}: tx is for chain {tx.chain_id!r}, not {chain_id!r}")
    if header is None:
        raise VerificationError(f"{where}: its block {event.height} is not in the answer")
    if not verify_inclusion(tx.tx_id, event.index, header.tx_count, event.proof,
                            header.tx_root):
        raise VerificationError(f"{where}: inclusion proof does not match the block's "
                                "tx_root")
    if not verify_inclusion(event.result.encoded, event.index, header.tx_count,
                            event.result_proof, header.results_root):
        raise VerificationError(f"{where}: result proof does not match the block's "
                                "results_root")
    if not event.result.accepted:
        raise VerificationError(f"{where}: the chain recorded this event as rejected "
                                f"({event.result.reason})")


def check_header(block: ProvenBlock, chain_id: str, parent: ProvenBlock | None) -> None:
    """The header is the claimed block of this chain and extends `parent` if given."""
    where, header = f"block {block.height}", block.header
    if header.height != block.height:
        raise VerificationError(f"block listed at {block.height} has height {header.height}")
    if header.chain_id != chain_id:
        raise VerificationError(f"{where} belongs to chain {header.chain_id!r}")
    if header.hash.hex() != block.hash_hex:
        raise VerificationError(f"{where}: header does not hash to the claimed hash")
    if parent is not None and header.parent_hash != parent.header.hash:
        raise VerificationError(f"{where} does not link to block {parent.height}")


def check_commit(block: ProvenBlock, chain_id: str, validators: ValidatorSet,
                 verifier: Verifier) -> None:
    """The commit certificate makes the block final under `validators`."""
    where = f"block {block.height}"
    if block.header.validators_hash != validators.hash:
        raise VerificationError(f"{where} names a validator set other than the one in force "
                                f"at height {block.height}")
    try:
        verify_commit(block.commit, chain_id, block.height, block.header.hash, validators,
                      verifier)
    except CommitError as exc:
        raise VerificationError(f"{where}: {exc}") from None
