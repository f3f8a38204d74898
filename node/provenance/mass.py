"""Mass balance in integers: transport loss, mass-weighted grades, contained metal.

Grams and parts per million only, never floats, so every node reaches the same
verdict bit for bit. "Contained metal" of an element is sum(mass_g * ppm) in
gram-ppm; dividing by 1_000_000 gives grams of the element.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

PPM = 1_000_000


def exceeds_tolerance(excess: int, base: int, tolerance_ppm: int) -> bool:
    """excess / base > tolerance_ppm / 1e6, by cross-multiplication."""
    return excess * PPM > tolerance_ppm * base


def ratio_ppm(part: int, whole: int) -> int:
    """floor(part / whole * 1e6); whole must be positive."""
    return part * PPM // whole


def weighted_composition(parts: Iterable[tuple[int, Mapping[str, int]]]) -> dict[str, int]:
    """Mass-weighted grade of a blend, rounded down per element.

    Floor, so a blend never claims more metal than its parts held; an element a part
    was not assayed for counts as 0 ppm in that part, for the same reason.
    """
    parts = list(parts)
    total = sum(mass for mass, _ in parts)
    metal: dict[str, int] = {}
    for mass, composition in parts:
        for element, grade in composition.items():
            metal[element] = metal.get(element, 0) + mass * grade
    blended = {element: metal[element] // total for element in sorted(metal)}
    return {element: grade for element, grade in blended.items() if grade > 0}


def contained_metal(lots: Iterable[tuple[int, Mapping[str, int]]]) -> dict[str, int]:
    """Per element, sum(mass_g * ppm) over the lots, in gram-ppm."""
    metal: dict[str, int] = {}
    for mass, composition in lots:
        for element, grade in composition.items():
            metal[element] = metal.get(element, 0) + mass * grade
    return metal


def format_mass(grams: int) -> str:
    """Human form of a mass for messages: 850 g, 12.5 kg, 0.6 t (exact, trailing zeros cut)."""
    sign = "-" if grams < 0 else ""
    grams = abs(grams)
    if grams >= 100_000:
        return f"{sign}{_decimal(grams, 1_000_000)} t"
    if grams >= 1_000:
        return f"{sign}{_decimal(grams, 1_000)} kg"
    return f"{sign}{grams} g"


def format_metal(gram_ppm: int) -> str:
    """A contained-metal quantity (gram-ppm) as a mass, rounded up to the gram so a
    nonzero excess is never reported as 0 g."""
    return format_mass(-(-gram_ppm // PPM))


def format_ppm(ppm: int) -> str:
    """ppm as a percentage with up to four decimals: 5000 -> 0.5%."""
    return f"{_decimal(ppm, 10_000)}%"


def _decimal(value: int, unit: int) -> str:
    whole, frac = divmod(value, unit)
    if not frac:
        return str(whole)
    digits = len(str(unit)) - 1
    return f"{whole}.{frac:0{digits}d}".rstrip("0")
