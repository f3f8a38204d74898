"""The JSON-RPC nesting limit at its boundary (node.rpc.server._depth)."""

from __future__ import annotations

from typing import Any

import pytest

from node.rpc.server import MAX_JSON_DEPTH, _depth


def nested(levels: int, leaf: Any, as_list: bool) -> Any:
    value = leaf
    for _ in range(levels):
        value = [value] if as_list else {"k": value}
    return value


@pytest.mark.parametrize("as_list", [True, False])
def test_a_value_at_the_limit_passes_and_one_level_more_does_not(as_list: bool) -> None:
    # A scalar counts one level below the container that holds it.
    assert _depth(nested(MAX_JSON_DEPTH - 1, 7, as_list), MAX_JSON_DEPTH)
    assert not _depth(nested(MAX_JSON_DEPTH, 7, as_list), MAX_JSON_DEPTH)
    # An empty container holds nothing below it.
    assert _depth(nested(MAX_JSON_DEPTH - 1, [], as_list), MAX_JSON_DEPTH)
    assert not _depth(nested(MAX_JSON_DEPTH, [], as_list), MAX_JSON_DEPTH)


def test_the_deepest_branch_decides_not_the_first() -> None:
    shallow_then_deep = {"a": 1, "b": [1, 2, {"c": nested(MAX_JSON_DEPTH, 1, True)}]}
    assert not _depth(shallow_then_deep, MAX_JSON_DEPTH)
    assert _depth([{"jsonrpc": "2.0", "params": {"event": {"body": {"x": 1}}}}] * 200,
                  MAX_JSON_DEPTH)
    assert _depth("a scalar alone", 1)
