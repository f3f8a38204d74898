"""The EPCIS 2.0 SimpleEventQuery over chain data, as the REST binding's GET /events asks.

Every accepted lot tx is rendered as its EPCIS event (node.epcis.export) and the query's
parameters are applied to that rendering, so a filter means exactly what the standard
says it means. A query naming lots reads only those lots' events through the lot event
index; any other query walks the chain's blocks in order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from node.epcis.directory import Directory
from node.epcis.export import epcis_event
from node.epcis.identifiers import IdentifierError, lot_id_from_uri
from node.epcis.mapping import normalise_biz_step
from node.epcis.units import UnitError, time_ms
from node.provenance import query as lots
from node.store import BlockStore

DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 1000
# Which event fields each MATCH_ parameter looks at (EPCIS 2.0, section 8.2.7.1).
_EPC_FIELDS = {
    "MATCH_epc": ("epcList", "childEPCs"),
    "MATCH_parentID": ("parentID",),
    "MATCH_anyEPC": ("epcList", "childEPCs", "inputEPCList", "outputEPCList", "parentID"),
    "MATCH_epcClass": ("quantityList", "childQuantityList"),
    "MATCH_inputEPCClass": ("inputQuantityList",),
    "MATCH_outputEPCClass": ("outputQuantityList",),
    "MATCH_anyEPCClass": ("quantityList", "childQuantityList", "inputQuantityList",
                          "outputQuantityList"),
}
_PAGING = ("perPage", "nextPageToken")
KNOWN_PARAMETERS = ("eventType", "EQ_bizStep", "GE_eventTime", "LT_eventTime",
                    *_EPC_FIELDS, *_PAGING)


class QueryError(ValueError):
    """A query parameter is unknown or malformed; the message names it."""


def _identity(uri: str) -> str:
    """What two URIs must share to match: the lot id when the URI names a lot (so an
    LGTIN and its Digital Link match), else the URI itself."""
    try:
        return "lot:" + lot_id_from_uri(uri)
    except IdentifierError:
        return "uri:" + uri


def _uris(event: Mapping[str, Any], fields: tuple[str, ...]) -> Iterator[str]:
    for field in fields:
        value = event.get(field)
        if isinstance(value, str):
            yield value
        for item in value if isinstance(value, list) else ():
            yield item["epcClass"] if isinstance(item, dict) else item


@dataclass(frozen=True)
class EventQuery:
    event_types: frozenset[str] | None = None
    biz_steps: frozenset[str] | None = None
    ge_ms: int | None = None
    lt_ms: int | None = None
    epc_matches: tuple[tuple[tuple[str, ...], frozenset[str]], ...] = ()
    per_page: int = DEFAULT_PER_PAGE
    after: tuple[int, int] | None = None     # (height, index) of the last event already sent

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> EventQuery:
        """Parse REST query parameters; lists are pipe-delimited as the binding says."""
        unknown = sorted(set(params) - set(KNOWN_PARAMETERS))
        if unknown:
            raise QueryError(f"unsupported query parameter(s): {', '.join(unknown)} "
                             f"(supported: {', '.join(KNOWN_PARAMETERS)})")

        def listed(name: str) -> frozenset[str] | None:
            return frozenset(params[name].split("|")) if name in params else None

        def moment(name: str) -> int | None:
            try:
                return time_ms(params[name]) if name in params else None
            except UnitError as exc:
                raise QueryError(f"{name}: {exc}") from None

        steps = listed("EQ_bizStep")
        return cls(
            event_types=listed("eventType"),
            biz_steps=frozenset(map(normalise_biz_step, steps)) if steps else None,
            ge_ms=moment("GE_eventTime"), lt_ms=moment("LT_eventTime"),
            epc_matches=tuple((fields, frozenset(map(_identity, params[name].split("|"))))
                              for name, fields in _EPC_FIELDS.items() if name in params),
            per_page=_per_page(params.get("perPage")),
            after=_token(params.get("nextPageToken")))

    def lot_ids(self) -> set[str] | None:
        """The lots every match must involve, or None when the query names no lot."""
        named = [{i[4:] for i in wanted if i.startswith("lot:")}
                 for _, wanted in self.epc_matches]
        return set.intersection(*named) if named else None

    def matches(self, event: Mapping[str, Any]) -> bool:
        if self.event_types is not None and event["type"] not in self.event_types:
            return False
        if self.biz_steps is not None and event.get("bizStep") not in self.biz_steps:
            return False
        event_ms = time_ms(event["eventTime"])
        if self.ge_ms is not None and event_ms < self.ge_ms:
            return False
        if self.lt_ms is not None and event_ms >= self.lt_ms:
            return False
        return all(wanted & {_identity(u) for u in _uris(event, fields)}
                   for fields, wanted in self.epc_matches)


def _per_page(value: str | None) -> int:
    if value is None:
        return DEFAULT_PER_PAGE
    if not value.isdigit() or not 1 <= int(value) <= MAX_PER_PAGE:
        raise QueryError(f"perPage must be a whole number from 1 to {MAX_PER_PAGE}")
    return int(value)


def _token(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    height, _, index = value.partition("-")
    if not (height.isdigit() and index.isdigit()):
        raise QueryError("nextPageToken is not a token this node issued")
    return int(height), int(index)


def page_token(height: int, index: int) -> str:
    return f"{height}-{index}"


def _positions(store: BlockStore, wanted_lots: set[str] | None) -> Iterator[tuple[int, int]]:
    """(height, index) of every accepted lot tx that may match, in chain order."""
    if wanted_lots is not None:
        refs = {(h, i) for lot in wanted_lots for h, i, _ in lots.lot_events(store, lot)}
        yield from sorted(refs)
        return
    for height in range(1, store.head()[0] + 1):
        for index, result in enumerate(store.results(height)):
            if result.accepted:
                yield height, index


def run_query(store: BlockStore, query: EventQuery,
              directory: Directory) -> tuple[list[dict[str, Any]], str | None]:
    """Matching events, at most `per_page`, and the token of the next page if any."""
    found: list[dict[str, Any]] = []
    last: tuple[int, int] | None = None
    block = None
    for height, index in _positions(store, query.lot_ids()):
        if query.after is not None and (height, index) <= query.after:
            continue
        if block is None or block.height != height:
            block = store.block(height)
        tx = block.txs[index]
        if tx.kind.startswith("gov_"):
            continue
        event = epcis_event(tx.to_json(), tx.tx_id.hex(), block.header.time_ms, directory)
        if not query.matches(event):
            continue
        if last is not None and len(found) == query.per_page:
            return found, page_token(*last)
        found.append(event)
        last = (height, index)
    return found, None
