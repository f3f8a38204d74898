"""Exact conversions between EPCIS values and orechain integers: masses, grades, times.

EPCIS quantities are JSON decimals; orechain stores whole grams and ppm. Conversions go
through `decimal.Decimal` and refuse anything that is not exact, so 200.5 KGM becomes
200,500 g and 0.0005 KGM is refused instead of being rounded into a signed event. JSON
must therefore be read with `load_document`, which keeps decimals as Decimal.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

# UN/ECE Recommendation 20 codes of the mass units orechain accepts, in grams.
GRAMS_PER_UNIT = {"GRM": Decimal(1), "KGM": Decimal(1000), "TNE": Decimal(1_000_000)}
# Grade units (UN/ECE Rec. 20): part per million, percent.
PPM_PER_UNIT = {"59": Decimal(1), "P1": Decimal(10_000)}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class UnitError(ValueError):
    """A value cannot be converted exactly; the message says why."""


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def load_document(data: str | bytes) -> Any:
    """Parse JSON keeping every decimal exact (Decimal, never float)."""
    return json.loads(data, parse_float=Decimal, parse_constant=_refuse_constant)


def _decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        hint = (" (read the document with node.epcis.units.load_document)"
                if isinstance(value, float) else "")
        raise UnitError(f"{what} must be a JSON number, got {type(value).__name__}{hint}")
    return Decimal(value)


def mass_grams(quantity: Any, uom: Any) -> int:
    """Whole grams of `quantity` in `uom` (GRM, KGM, TNE); UnitError if not exact."""
    if uom is None:
        raise UnitError("has no uom: a quantity without a unit counts items, and orechain "
                        "needs the lot's mass (uom KGM)")
    if uom not in GRAMS_PER_UNIT:
        raise UnitError(f"uom {uom!r} is not a mass unit orechain accepts "
                        f"({', '.join(GRAMS_PER_UNIT)})")
    grams = _decimal(quantity, "quantity") * GRAMS_PER_UNIT[uom]
    if grams != grams.to_integral_value():
        raise UnitError(f"{quantity} {uom} is not a whole number of grams ({grams} g); "
                        "orechain records whole grams")
    if grams <= 0:
        raise UnitError(f"{quantity} {uom} is not a positive mass")
    return int(grams)


def mass_quantity(grams: int) -> tuple[int, str]:
    """An orechain mass as an exact integer EPCIS (quantity, uom): KGM when whole
    kilograms, else GRM, so no mass is ever written as a rounded decimal."""
    return (grams // 1000, "KGM") if grams % 1000 == 0 else (grams, "GRM")


def grade_ppm(value: Any, uom: Any) -> int:
    """Whole ppm of a grade given in ppm (uom 59) or percent (uom P1)."""
    if uom not in PPM_PER_UNIT:
        raise UnitError(f"uom {uom!r} is not a grade unit orechain accepts "
                        "(59 = parts per million, P1 = percent)")
    ppm = _decimal(value, "value") * PPM_PER_UNIT[uom]
    if ppm != ppm.to_integral_value():
        raise UnitError(f"{value} {uom} is not a whole number of ppm ({ppm} ppm)")
    return int(ppm)


def time_ms(value: Any) -> int:
    """Milliseconds since the epoch of an ISO 8601 date-time with an offset."""
    if not isinstance(value, str):
        raise UnitError(f"must be an ISO 8601 date-time string, got {type(value).__name__}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UnitError(f"{value!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise UnitError(f"{value!r} has no time zone offset (add Z or +hh:mm)")
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def iso_time(ms: int) -> str:
    """An orechain millisecond time as an EPCIS date-time in UTC."""
    moment = _EPOCH + timedelta(milliseconds=ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
