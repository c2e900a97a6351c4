"""Counters of the embedded mode's local-memory cache (Redis is tested in tests/integration)."""

from __future__ import annotations

from django.core.cache import cache

from core.cache import counter_incr


def test_a_counter_starts_at_one_and_counts_on() -> None:
    # given a counter never counted
    cache.delete("test:counter")

    # when it is counted twice
    values = [counter_incr("test:counter"), counter_incr("test:counter")]

    # then it started at one and the cache holds the count
    assert values == [1, 2]
    assert cache.get("test:counter") == 2


def test_a_counter_evicted_counts_again_from_one() -> None:
    # given a counter that was counted, then evicted
    counter_incr("test:evicted")
    cache.delete("test:evicted")

    # when it is counted again
    value = counter_incr("test:evicted")

    # then it starts over
    assert value == 1
