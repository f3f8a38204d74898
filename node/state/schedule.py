"""The validator schedule: which validator set is in force at a height.

Genesis names the first set; every accepted `gov_set_validators` records the set it
schedules under governance_key("validators@" + 20-digit effective height). The set in
force at a height is the one with the greatest effective height at or below it, or
genesis's if there is none. Records are never deleted, so the answer for an old height
stays right as the chain grows; both the node and the light client ask here.
"""

from __future__ import annotations

from node.provenance.ledger import LedgerView
from node.state.governance import VALIDATORS_AT
from node.store import keys
from node.store.kv import KV
from node.types.genesis import Genesis
from node.types.validators import Validator, ValidatorSet


def validator_set_at(kv: KV, genesis: Genesis, height: int) -> ValidatorSet:
    """The validators whose precommits make the block at `height` final."""
    prefix = keys.governance_prefix(VALIDATORS_AT)
    in_force: str | None = None
    for key, _ in kv.iter_prefix(prefix):
        name = key[len(prefix):-1].decode()      # the 20-digit height, without the NUL
        if int(name) > height:
            break                                # fixed width: bytewise order is numeric
        in_force = VALIDATORS_AT + name
    if in_force is None:
        return genesis.validators
    record = LedgerView(kv).governance(in_force)
    return ValidatorSet.of(Validator(name=v["name"], node_key=v["node_key"], power=v["power"],
                                     org=v["org"]) for v in record["validators"])
