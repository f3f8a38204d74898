"""Admission: the checks that decide whether a tx may enter the mempool at all.

Refused here (a JSON-RPC error, never on chain): a wrong chain id, an unknown kind, a
malformed body, a signer key that is not registered or has been revoked. Signatures
are the caller's job (it keeps a cache of verified ones); roles, sites and lot rules
are judged when the block is applied. apply_block runs these checks again for every
tx, because an earlier tx of the same block may have revoked the key.
"""

from __future__ import annotations

from node.provenance.ledger import LedgerView, OrgRecord
from node.provenance.schema import EVIDENCE_KIND, KINDS, EventFormatError, validate_tx_body
from node.store.kv import KV
from node.types.genesis import Genesis
from node.types.tx import Tx


class AdmissionError(ValueError):
    """The tx cannot be admitted; the message says why and what to do."""


def check_admission(kv: KV, genesis: Genesis, tx: Tx) -> None:
    """Raise AdmissionError unless `tx` may be admitted on the current state `kv`."""
    if tx.kind == EVIDENCE_KIND:
        admit_reporter(genesis, tx)
        return
    admitted_org(LedgerView(kv), genesis.chain_id, tx)


def admitted_org(ledger: LedgerView, chain_id: str, tx: Tx) -> OrgRecord:
    """The admission checks; returns the org the signer's key signs for."""
    if tx.chain_id != chain_id:
        raise AdmissionError(f"tx is for chain {tx.chain_id!r}, this network is {chain_id!r}")
    if tx.kind not in KINDS:
        raise AdmissionError(f"unknown event kind {tx.kind!r}; known kinds: {', '.join(KINDS)}")
    try:
        validate_tx_body(tx.tx_id, tx.kind, tx.body)
    except EventFormatError as exc:
        raise AdmissionError(f"{tx.kind} {exc}") from None
    key = ledger.signer(tx.signer)
    if key is None:
        raise AdmissionError(f"signer key {_short(tx)}… is not registered on this network "
                             "(the admin board registers keys with gov_add_key)")
    if not key.active:
        raise AdmissionError(f"signer key {_short(tx)}… of {key.org} was revoked at height "
                             f"{key.revoked_height}: {key.revoked_reason}")
    org = ledger.org(key.org)
    if org is None or not org.active:
        when = f" at height {org.revoked_height}: {org.revoked_reason}" if org else ""
        raise AdmissionError(f"org {key.org} of signer key {_short(tx)}… was revoked{when}")
    return org


def _short(tx: Tx) -> str:
    return tx.signer.hex()[:16]


def admit_reporter(genesis: Genesis, tx: Tx) -> None:
    """Admission of an evidence report: right chain, well-formed, signed by a registered node."""
    if tx.chain_id != genesis.chain_id:
        raise AdmissionError(f"tx is for chain {tx.chain_id!r}, this network is "
                             f"{genesis.chain_id!r}")
    try:
        validate_tx_body(tx.tx_id, tx.kind, tx.body)
    except EventFormatError as exc:
        raise AdmissionError(f"{tx.kind} {exc}") from None
    if tx.signer not in {n.node_key for n in genesis.nodes}:
        raise AdmissionError(f"evidence must be reported by a node of the registry; "
                             f"{_short(tx)}… is not one")
