"""A tiny metrics registry rendered in the Prometheus text exposition format (0.0.4).

Counters, gauges and histograms, optionally with labels, kept in registration order.
The node runs one asyncio loop and every update happens on it, so nothing here locks.
The design card fixes the node's dependencies, so the exposition is written here
rather than taken from a client library.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ClassVar, Generic, TypeVar

NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Seconds, from a fast local RPC read up to a slow multi-round finalisation.
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

Sample = tuple[str, tuple[tuple[str, str], ...], float]  # (name suffix, labels, value)


def format_value(value: float) -> str:
    """Prometheus number syntax: integers without a fraction, +Inf/-Inf/NaN spelled out."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


class CounterChild:
    """One labelled series of a counter: only ever goes up (a restart resets it to 0)."""

    def __init__(self) -> None:
        self.value = 0.0
        self._read: Callable[[], float] | None = None

    def inc(self, amount: float = 1.0) -> None:
        if amount < 0:
            raise ValueError("a counter only increases; use a gauge for values that fall")
        self.value += amount

    def set_function(self, read: Callable[[], float]) -> None:
        """Read the total when scraped: a total something else keeps (the kernel's count
        of the process's CPU time)."""
        self._read = read

    def samples(self) -> Iterator[Sample]:
        yield "", (), float(self._read()) if self._read is not None else self.value


class GaugeChild:
    """One labelled series of a gauge: set directly, or read from a function at scrape time."""

    def __init__(self) -> None:
        self.value = 0.0
        self._read: Callable[[], float] | None = None

    def set(self, value: float) -> None:
        self.value = float(value)

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount

    def dec(self, amount: float = 1.0) -> None:
        self.value -= amount

    def set_function(self, read: Callable[[], float]) -> None:
        """Read the value when scraped: live figures (peers, mempool) never go stale."""
        self._read = read

    def current(self) -> float:
        return float(self._read()) if self._read is not None else self.value

    def samples(self) -> Iterator[Sample]:
        yield "", (), self.current()


class HistogramChild:
    """One labelled series of a histogram: cumulative bucket counts, sum and count."""

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * len(bounds)  # per bucket, not cumulative; summed when rendered
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        for i, bound in enumerate(self.bounds):
            if value <= bound:  # `le` is inclusive
                self.counts[i] += 1
                break
        self.sum += value
        self.count += 1

    def samples(self) -> Iterator[Sample]:
        cumulative = 0
        for bound, n in zip(self.bounds, self.counts, strict=True):
            cumulative += n
            yield "_bucket", (("le", format_value(bound)),), cumulative
        yield "_bucket", (("le", "+Inf"),), self.count
        yield "_sum", (), self.sum
        yield "_count", (), self.count


Child = TypeVar("Child", CounterChild, GaugeChild, HistogramChild)


class Metric(ABC, Generic[Child]):
    """A named family of series, one per combination of label values."""

    kind: ClassVar[str]

    def __init__(self, name: str, help_text: str, labelnames: Sequence[str] = ()) -> None:
        if not NAME.match(name):
            raise ValueError(f"{name!r} is not a valid metric name")
        for label in labelnames:
            if not LABEL.match(label) or label.startswith("__") or label == "le":
                raise ValueError(f"{label!r} is not a valid label name for {name}")
        self.name = name
        self.help = help_text
        self.labelnames = tuple(labelnames)
        self._children: dict[tuple[str, ...], Child] = {}

    @abstractmethod
    def _new_child(self) -> Child:
        """A fresh series of this metric's kind."""

    def labels(self, **values: str) -> Child:
        """The series for these label values, created on first use."""
        if set(values) != set(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}, got {tuple(values)}")
        key = tuple(str(values[n]) for n in self.labelnames)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self._new_child()
        return child

    def _only(self) -> Child:
        if self.labelnames:
            raise ValueError(f"{self.name} has labels {self.labelnames}; use .labels(...)")
        return self.labels()

    def render(self) -> Iterator[str]:
        yield f"# HELP {self.name} {_escape_help(self.help)}"
        yield f"# TYPE {self.name} {self.kind}"
        if not self.labelnames and not self._children:
            self._only()  # an unlabelled metric shows its zero before the first update
        for key, child in self._children.items():
            base = tuple(zip(self.labelnames, key, strict=True))
            for suffix, extra, value in child.samples():
                labels = base + extra
                text = ",".join(f'{k}="{_escape_label(v)}"' for k, v in labels)
                selector = f"{{{text}}}" if labels else ""
                yield f"{self.name}{suffix}{selector} {format_value(value)}"


class Counter(Metric[CounterChild]):
    kind = "counter"

    def _new_child(self) -> CounterChild:
        return CounterChild()

    def inc(self, amount: float = 1.0) -> None:
        self._only().inc(amount)

    def set_function(self, read: Callable[[], float]) -> None:
        self._only().set_function(read)


class Gauge(Metric[GaugeChild]):
    kind = "gauge"

    def _new_child(self) -> GaugeChild:
        return GaugeChild()

    def set(self, value: float) -> None:
        self._only().set(value)

    def set_function(self, read: Callable[[], float]) -> None:
        self._only().set_function(read)

    def current(self) -> float:
        return self._only().current()


class Histogram(Metric[HistogramChild]):
    kind = "histogram"

    def __init__(self, name: str, help_text: str, labelnames: Sequence[str] = (),
                 buckets: Sequence[float] = DEFAULT_BUCKETS) -> None:
        super().__init__(name, help_text, labelnames)
        bounds = tuple(float(b) for b in buckets if not math.isinf(b))
        if not bounds or list(bounds) != sorted(set(bounds)):
            raise ValueError(f"{name}: buckets must be distinct and increasing")
        self.bounds = bounds

    def _new_child(self) -> HistogramChild:
        return HistogramChild(self.bounds)

    def observe(self, value: float) -> None:
        self._only().observe(value)


AnyMetric = TypeVar("AnyMetric", Counter, Gauge, Histogram)


class Registry:
    """The metrics of one process, rendered together for one scrape."""

    def __init__(self) -> None:
        self._metrics: dict[str, Metric[Any]] = {}

    def _add(self, metric: AnyMetric) -> AnyMetric:
        if metric.name in self._metrics:
            raise ValueError(f"metric {metric.name} is already registered")
        self._metrics[metric.name] = metric
        return metric

    def counter(self, name: str, help_text: str, labelnames: Sequence[str] = ()) -> Counter:
        return self._add(Counter(name, help_text, labelnames))

    def gauge(self, name: str, help_text: str, labelnames: Sequence[str] = ()) -> Gauge:
        return self._add(Gauge(name, help_text, labelnames))

    def histogram(self, name: str, help_text: str, labelnames: Sequence[str] = (),
                  buckets: Sequence[float] = DEFAULT_BUCKETS) -> Histogram:
        return self._add(Histogram(name, help_text, labelnames, buckets))

    def render(self) -> str:
        """The whole exposition, one metric family after another, newline-terminated."""
        lines = [line for metric in self._metrics.values() for line in metric.render()]
        return "\n".join(lines) + "\n"
