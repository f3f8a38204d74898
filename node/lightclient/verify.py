"""verify_provenance: every check of docs/verification.md, cheapest first, so a
damaged answer is usually refused before any signature is checked."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from node.crypto import VerifiedCache, verify, verify_many
from node.lightclient.answer import Answer, ProvenEvent, parse_answer, same
from node.lightclient.errors import VerificationError
from node.lightclient.proofs import check_commit, check_event, check_header
from node.lightclient.replay import Replay
from node.lightclient.signatures import SignatureChecks, SignedItem
from node.provenance.schema import GOV_KINDS
from node.types.genesis import Genesis
from node.types.vote import Verifier

__all__ = ["Report", "VerificationError", "verify_provenance"]


@dataclass(frozen=True)
class Report:
    lot_id: str
    events: int
    blocks: int
    lots: int
    governance: int          # governance events replayed (keys, orgs, sites, validators)
    validator_sets: int      # distinct validator sets the commits were checked against


def verify_provenance(answer: Any, genesis: Genesis,
                      cache: VerifiedCache | None = None) -> Report:
    """Check `answer` (parsed JSON) against `genesis`; VerificationError names the
    first check that fails. A `cache` of verified signatures spares checking again
    what an earlier answer already proved."""
    parsed = parse_answer(answer)
    if parsed.chain_id != genesis.chain_id:
        raise VerificationError(f"answer is for chain {parsed.chain_id!r}, genesis is "
                                f"{genesis.chain_id!r}")
    by_height = _events_by_height(parsed)
    if by_height.keys() != parsed.blocks.keys():
        extra = sorted(parsed.blocks.keys() - by_height.keys())
        raise VerificationError(f"the answer lists blocks {extra} that no event needs")
    heights = sorted(parsed.blocks)
    for height in heights:
        check_header(parsed.blocks[height], genesis.chain_id, parsed.blocks.get(height - 1))
    verifier = cache.verify if cache else verify
    with SignatureChecks(cache.verify_many if cache else verify_many) as signatures:
        signatures.submit([SignedItem(event.where, (event.tx.signer, event.tx.signing_bytes,
                                                    event.tx.signature))
                           for event in parsed.events])
        for event in parsed.events:
            check_event(event, genesis.chain_id, parsed.blocks[event.height].header)
        sets: set[bytes] = set()
        refused: VerificationError | None = None
        try:
            sets = _replay(parsed, by_height, genesis, verifier)
        except VerificationError as exc:
            refused = exc
        # A bad signature is named before anything the replay found: it is the earlier
        # check, and it does not depend on the replay.
        bad = signatures.first_bad()
    if bad is not None:
        raise VerificationError(f"{bad}: bad signature")
    if refused is not None:
        raise refused
    governance = sum(1 for e in parsed.events if e.tx.kind in GOV_KINDS)
    return Report(parsed.lot_id, len(parsed.events), len(parsed.blocks), len(parsed.lots),
                  governance, len(sets))


def _replay(parsed: Answer, by_height: dict[int, list[ProvenEvent]], genesis: Genesis,
            verifier: Verifier) -> set[bytes]:
    """Check each block's commit and replay its events from genesis, then the lots;
    the hashes of the validator sets the commits were checked against."""
    replay = Replay(genesis)
    sets = set()
    for height in sorted(parsed.blocks):
        block = parsed.blocks[height]
        validators = replay.validators(height)
        sets.add(validators.hash)
        check_commit(block, genesis.chain_id, validators, verifier)
        events = by_height[height]
        results = replay.apply(block.header, [e.tx for e in events])
        for event, result in zip(events, results, strict=True):
            if not result.accepted:
                raise VerificationError(f"{event.where}: replayed from genesis, the lot "
                                        f"rules refuse it: {result.reason}")
    _check_lots(parsed, replay)
    return sets


def _events_by_height(answer: Answer) -> dict[int, list[ProvenEvent]]:
    """The events grouped by block, refusing any out of chain order or repeated."""
    grouped: dict[int, list[ProvenEvent]] = defaultdict(list)
    previous = (-1, -1)
    for event in answer.events:
        position = (event.height, event.index)
        if position <= previous:
            raise VerificationError(f"{event.where}: events must be in chain order, each once")
        previous = position
        grouped[event.height].append(event)
    return grouped


def _check_lots(answer: Answer, replay: Replay) -> None:
    """The answer's lots are exactly those the query reaches in the replayed state, each
    in exactly the replayed state."""
    expected = replay.reached(answer.lot_id, answer.direction)
    if answer.lot_id not in expected:
        raise VerificationError(f"no proven event creates lot {answer.lot_id}")
    if expected.keys() != answer.lots.keys():
        missing = sorted(expected.keys() - answer.lots.keys())
        extra = sorted(answer.lots.keys() - expected.keys())
        raise VerificationError(f"the answer's lots differ from the replay: missing {missing}, "
                                f"not reached {extra}")
    for lot_id, state in expected.items():
        if not same(state, answer.lots[lot_id]):
            fields = sorted(k for k in state.keys() | answer.lots[lot_id].keys()
                            if not same(state.get(k), answer.lots[lot_id].get(k)))
            raise VerificationError(f"lot {lot_id}: the answer's state differs from the "
                                    f"replayed events in {', '.join(fields)}")
