"""Prometheus metrics of a running node: a small registry, the node's metric set, /metrics."""

from node.metrics.node_metrics import NodeMetrics, heights_behind
from node.metrics.registry import Counter, Gauge, Histogram, Registry

__all__ = ["Counter", "Gauge", "Histogram", "NodeMetrics", "Registry", "heights_behind"]
