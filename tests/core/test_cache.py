"""Counters of the embedded mode's local-memory cache (Redis is tested in tests/integration)."""

from __future__ import annotations

from django.core.cache import cache

from core.cache import counter_incr, counter_incr_and_get


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


def test_a_count_comes_with_the_value_read_beside_it() -> None:
    # given a counter counted once and a value cached beside it
    cache.delete("test:pair-counter")
    counter_incr("test:pair-counter")
    cache.set("test:pair-value", {"every": 50})
    cache.delete("test:pair-missing")

    # when it is counted together with a read of the value, and of a missing one
    counted = counter_incr_and_get("test:pair-counter", "test:pair-value")
    missing = counter_incr_and_get("test:pair-counter", "test:pair-missing")

    # then each gives the new count and what the cache holds (None where nothing)
    assert counted == (2, {"every": 50})
    assert missing == (3, None)
