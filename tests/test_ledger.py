"""The ledger's block checks: a block from a proposer is checked signature by signature;
a final block arriving with its certificate is checked against the certificate first."""

import dataclasses
import json

import pytest

from node.daemon.ledger import InvalidBlock, Ledger
from node.store import BlockStore
from node.types import PRECOMMIT, Commit
from node.types.genesis import Genesis
from node.types.vote import vote_sign_bytes
from tests.helpers import devnet_doc, event, node_key


@pytest.fixture
def ledger(tmp_path):
    genesis = Genesis.from_json(json.loads(json.dumps(devnet_doc(validators=1))))
    store = BlockStore(tmp_path / "chain")
    yield Ledger(store, genesis)
    store.close()


def forged_block(ledger):
    tx = event("mine-1", "register_lot", {
        "lot_id": "PK-CU-2026-0001", "mineral": "copper", "form": "ore", "mass_g": 5,
        "site_id": "mine-1-pit-a", "extracted_at_ms": 1_795_132_800_000})
    forged = dataclasses.replace(tx, signature=bytes(64))
    key = node_key("validator-1")
    return ledger.build_block(1_795_132_900_000, key.public_key, [forged]).block, key


def commit_for(block, key, chain_id="orechain-devnet-1"):
    sig = key.sign(vote_sign_bytes(chain_id, PRECOMMIT, block.height, 0, block.hash))
    return Commit(block.height, 0, block.hash, ((key.public_key, sig),))


def test_a_proposed_block_with_a_forged_signature_is_invalid(ledger):
    block, _ = forged_block(ledger)
    with pytest.raises(InvalidBlock, match="bad signature"):
        ledger.validate_block(block)


def test_a_final_block_is_checked_against_its_certificate_first(ledger):
    block, key = forged_block(ledger)
    other = node_key("validator-2")
    with pytest.raises(InvalidBlock, match="commit certificate rejected"):
        ledger.validate_block(block, commit_for(block, other))
    # Under a valid certificate the validators' signature checks are trusted; the state
    # rules still ran and reproduced the header's results.
    executed = ledger.validate_block(block, commit_for(block, key))
    assert executed.block == block and len(executed.results) == 1


def test_a_block_carrying_a_tx_already_final_is_invalid(ledger):
    """A tx is on chain once. A proposer that carried it again (its mempool still held
    it) would have moved the tx's index entry to the second block; validators refuse
    the block, with or without a certificate."""
    tx = event("mine-1", "register_lot", {
        "lot_id": "PK-CU-2026-0002", "mineral": "copper", "form": "ore", "mass_g": 5,
        "site_id": "mine-1-pit-a", "extracted_at_ms": 1_795_132_800_000})
    key = node_key("validator-1")
    first = ledger.build_block(1_795_132_900_000, key.public_key, [tx])
    ledger.commit(first, commit_for(first.block, key))
    again = ledger.build_block(1_795_132_901_000, key.public_key, [tx]).block
    with pytest.raises(InvalidBlock, match=f"tx {tx.tx_id.hex()[:16]} is already final at "
                                           "height 1"):
        ledger.validate_block(again)
    with pytest.raises(InvalidBlock, match="already final"):
        ledger.validate_block(again, commit_for(again, key))
    assert ledger.store.tx_location(tx.tx_id) == (1, 0)
