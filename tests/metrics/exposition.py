"""A strict reader of the Prometheus text exposition format (0.0.4), for the tests.

It checks the grammar line by line (HELP/TYPE comments, metric and label names, label
value escapes, number syntax) and the rules across lines: TYPE before a family's
samples, each family contiguous, no series twice, histogram buckets cumulative and
increasing in `le`, ending at +Inf with the same value as `_count`, and a `_sum`.
Any breach raises ExpositionError naming the line.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
HELP = re.compile(rf"^# HELP ({NAME}) (.*)$")
TYPE = re.compile(rf"^# TYPE ({NAME}) (counter|gauge|histogram|summary|untyped)$")
SAMPLE = re.compile(rf"^({NAME})(\{{.*\}})? (\S+)( -?[0-9]+)?$")
NUMBER = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")

Labels = tuple[tuple[str, str], ...]


class ExpositionError(ValueError):
    pass


@dataclass
class Family:
    name: str
    type: str = "untyped"
    help: str | None = None
    samples: dict[tuple[str, Labels], float] = field(default_factory=dict)

    def value(self, name: str | None = None, **labels: str) -> float:
        """The value of one series (by default the family's own name) with exactly `labels`."""
        key = (name or self.name, tuple(sorted(labels.items())))
        return self.samples[key]


def parse_number(text: str, lineno: int) -> float:
    if text in ("+Inf", "-Inf", "NaN"):
        return float(text.replace("Inf", "inf").replace("NaN", "nan"))
    if not NUMBER.match(text):
        raise ExpositionError(f"line {lineno}: {text!r} is not a number")
    return float(text)


def parse_labels(text: str, lineno: int) -> Labels:
    """`{a="x",b="y\\"z"}` -> (("a", "x"), ("b", 'y"z')), honouring the three escapes."""
    body, pos, labels = text[1:-1], 0, []
    while pos < len(body):
        match = LABEL_NAME.match(body, pos)
        if match is None or body[match.end():match.end() + 2] != '="':
            raise ExpositionError(f"line {lineno}: bad label at {body[pos:]!r}")
        name, pos, value = match.group(), match.end() + 2, []
        while True:
            if pos >= len(body):
                raise ExpositionError(f"line {lineno}: unterminated label value")
            char = body[pos]
            if char == '"':
                break
            if char == "\\":
                escaped = body[pos + 1:pos + 2]
                if escaped not in ("\\", '"', "n"):
                    raise ExpositionError(f"line {lineno}: bad escape \\{escaped}")
                value.append("\n" if escaped == "n" else escaped)
                pos += 2
            else:
                value.append(char)
                pos += 1
        labels.append((name, "".join(value)))
        pos += 1
        if pos < len(body):
            if body[pos] != ",":
                raise ExpositionError(f"line {lineno}: labels must be separated by commas")
            pos += 1
    names = [n for n, _ in labels]
    if len(set(names)) != len(names):
        raise ExpositionError(f"line {lineno}: a label appears twice")
    return tuple(sorted(labels))


def _family_of(sample: str, families: dict[str, Family]) -> Family | None:
    if sample in families:
        return families[sample]
    for suffix in HISTOGRAM_SUFFIXES:
        base = sample.removesuffix(suffix)
        if base != sample and base in families and families[base].type == "histogram":
            return families[base]
    return None


def parse(text: str) -> dict[str, Family]:
    if not text.endswith("\n"):
        raise ExpositionError("the exposition must end with a newline")
    families: dict[str, Family] = {}
    closed: set[str] = set()
    current: str | None = None
    for lineno, line in enumerate(text[:-1].split("\n"), start=1):
        if not line.strip():
            continue
        if line.startswith("#"):
            help_match, type_match = HELP.match(line), TYPE.match(line)
            if help_match:
                family = families.setdefault(help_match[1], Family(help_match[1]))
                if family.help is not None:
                    raise ExpositionError(f"line {lineno}: second HELP for {family.name}")
                family.help = help_match[2]
            elif type_match:
                family = families.setdefault(type_match[1], Family(type_match[1]))
                if family.samples or family.type != "untyped":
                    raise ExpositionError(f"line {lineno}: TYPE of {family.name} comes late")
                family.type = type_match[2]
            elif line.startswith(("# HELP", "# TYPE")):
                raise ExpositionError(f"line {lineno}: malformed {line[:6]!r} line")
            continue
        match = SAMPLE.match(line)
        if match is None:
            raise ExpositionError(f"line {lineno}: not a sample: {line!r}")
        name, label_text, value_text = match[1], match[2], match[3]
        labels = parse_labels(label_text, lineno) if label_text else ()
        value = parse_number(value_text, lineno)
        family = _family_of(name, families) or families.setdefault(name, Family(name))
        if family.name in closed:
            raise ExpositionError(f"line {lineno}: samples of {family.name} are not together")
        if current is not None and current != family.name:
            closed.add(current)
        current = family.name
        if (name, labels) in family.samples:
            raise ExpositionError(f"line {lineno}: series {name}{dict(labels)} appears twice")
        if family.type == "counter" and not value >= 0:
            raise ExpositionError(f"line {lineno}: counter {name} is {value_text}")
        family.samples[(name, labels)] = value
    for family in families.values():
        if family.type == "histogram":
            _check_histogram(family)
    return families


def _check_histogram(family: Family) -> None:
    series: dict[Labels, list[tuple[float, float]]] = {}
    for (name, labels), value in family.samples.items():
        if name == family.name + "_bucket":
            le = dict(labels).get("le")
            if le is None:
                raise ExpositionError(f"{name} sample without an le label")
            rest = tuple(kv for kv in labels if kv[0] != "le")
            series.setdefault(rest, []).append((parse_number(le, 0), value))
    for rest, buckets in series.items():
        bounds = [b for b, _ in buckets]
        counts = [c for _, c in buckets]
        if bounds != sorted(bounds) or len(set(bounds)) != len(bounds):
            raise ExpositionError(f"{family.name}{dict(rest)}: le bounds not increasing")
        if counts != sorted(counts):
            raise ExpositionError(f"{family.name}{dict(rest)}: buckets not cumulative")
        if not math.isinf(bounds[-1]):
            raise ExpositionError(f"{family.name}{dict(rest)}: no +Inf bucket")
        count = family.samples.get((family.name + "_count", rest))
        if count != counts[-1]:
            raise ExpositionError(f"{family.name}{dict(rest)}: +Inf bucket {counts[-1]} "
                                  f"differs from _count {count}")
        if (family.name + "_sum", rest) not in family.samples:
            raise ExpositionError(f"{family.name}{dict(rest)}: no _sum")
