"""The cache as the hot path uses it: Django's Redis backend with one client per connection pool, and
counters that cost one round trip (a counter and a read together: one too).

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` for every call (its constructor fills a
table of about 170 response callbacks: a fifth of a millisecond of CPU), and `cache.incr` asks `EXISTS`
before `INCR`; a counter kept with `add` then `incr` took three round trips. The labeling hot path counts
every answer twice (the retrain trigger and the truth-inference trigger), so a submit spent seven Redis
round trips and seven client constructions on two counters. `redis.Redis` is thread-safe over its pool,
and the pool notices a fork, so one client per pool serves every thread of a process.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    """Django's client, with the `redis.Redis` of each pool made once."""

    def __init__(self, servers: list[str], **options: Any) -> None:
        super().__init__(servers, **options)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        django_client: Any = self  # Django's private helpers, which its stubs do not declare
        index = django_client._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            # Two threads may both build one here; either is right and the last one stays.
            client = django_client._client(connection_pool=django_client._get_connection_pool(write))
            self._clients[index] = client
        return client


class RedisCache(DjangoRedisCache):
    """`django.core.cache.backends.redis.RedisCache` with the client above (CACHES' BACKEND in production)."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient


def counter_incr(key: str) -> int:
    """Adds one to the counter `key` of the default cache, making it at 0 where it is missing (or was
    evicted), kept without expiry, and returns the new value.

    On Redis it is one `INCR` (Django stores integers as themselves, so `cache.get(key)` reads it back). On
    the other backends (the embedded mode's local memory) it is `add` then `incr`.
    """
    backend = caches["default"]  # `cache` is a proxy of it
    if isinstance(backend, DjangoRedisCache):
        made = backend.make_and_validate_key(key)
        return int(backend._cache.get_client(made, write=True).incr(made))  # Django keeps its client there
    return _counter_incr_elsewhere(key)


def counter_incr_and_get(key: str, other: str) -> tuple[int, Any]:
    """`counter_incr(key)` and `cache.get(other)` in one round trip on Redis (a pipeline on the primary, where
    the counter is written, so the read sees the latest write); two calls on the other backends. For a hot
    path that counts an event and needs a cached setting to judge the count."""
    backend = caches["default"]
    if isinstance(backend, DjangoRedisCache):
        made, made_other = backend.make_and_validate_key(key), backend.make_and_validate_key(other)
        django_client: Any = backend._cache  # Django's private serializer, which its stubs do not declare
        pipeline = django_client.get_client(made, write=True).pipeline(transaction=False)
        count, value = pipeline.incr(made).get(made_other).execute()
        return int(count), None if value is None else django_client._serializer.loads(value)
    return _counter_incr_elsewhere(key), cache.get(other)


def _counter_incr_elsewhere(key: str) -> int:
    cache.add(key, 0, timeout=None)
    try:
        return int(cache.incr(key))
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=None)
        return 1
