"""The idle sync tick's choice: fetch from a peer only when this node is really behind
(node.daemon.network.fetch_after_probe)."""

from __future__ import annotations

from node.daemon.network import fetch_after_probe


def test_a_peer_two_or_more_ahead_is_fetched_from_at_once() -> None:
    assert fetch_after_probe(10, 12, None) == (True, None)
    assert fetch_after_probe(0, 5_000, 0) == (True, None)


def test_a_peer_one_ahead_is_fetched_from_only_on_the_second_tick_at_the_same_height() -> None:
    fetch, remember = fetch_after_probe(10, 11, None)
    assert (fetch, remember) == (False, 10)
    assert fetch_after_probe(10, 11, remember) == (True, None)     # still stuck at 10
    # This node committed 11 meanwhile and the peer moved on to 12: a new moment.
    assert fetch_after_probe(11, 12, remember) == (False, 11)


def test_a_peer_level_or_behind_is_not_fetched_from_and_forgotten() -> None:
    assert fetch_after_probe(10, 10, 9) == (False, None)
    assert fetch_after_probe(10, 3, None) == (False, None)
