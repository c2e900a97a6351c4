"""The suite really runs on the session's PostgreSQL, Redis and Celery worker, and /healthz sees them."""

from __future__ import annotations

import os

import psutil
import pytest
import redis
from django.conf import settings
from django.core.cache import cache, caches
from django.db import connection
from django.test import Client

from config.celery import app as celery_app
from core.cache import counter_incr, counter_incr_and_get
from tests.integration.conftest import CeleryWorker
from tests.plugins.real_services import DATABASE_NAME, RealServices

pytestmark = pytest.mark.integration


@pytest.mark.django_db
def test_django_uses_the_throwaway_postgresql_server(real_services: RealServices) -> None:
    # given the session's throwaway servers, and pytest-django's test database name (suffixed under xdist)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    test_database = f"test_{DATABASE_NAME}_{worker}" if worker else f"test_{DATABASE_NAME}"

    # when Django connects
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database(), current_setting('port')")
        database, port = cursor.fetchone()

    # then it talks to the test database on the throwaway server, not the machine's own
    assert connection.vendor == "postgresql"
    assert (database, int(port)) == (test_database, real_services.postgres_port)


def test_celery_sends_tasks_through_the_throwaway_redis(real_services: RealServices) -> None:
    # given the settings loaded for an integration run
    # when the Celery app reads its configuration
    conf = celery_app.conf

    # then tasks go to a worker through Redis instead of running in-process
    assert conf.task_always_eager is False
    assert conf.broker_url == real_services.redis_url
    assert settings.EMBEDDED_MODE is False


def test_the_django_cache_is_the_throwaway_redis(real_services: RealServices) -> None:
    # given the Django cache and a separate Redis client on the same server
    client = redis.Redis.from_url(real_services.redis_url)

    # when a value is cached
    cache.set("integration:probe", {"rows": 3}, 30)

    # then Redis holds it, under Django's key format
    assert settings.CACHES["default"]["BACKEND"] == "core.cache.RedisCache"
    assert cache.get("integration:probe") == {"rows": 3}
    assert client.exists(":1:integration:probe") == 1
    cache.delete("integration:probe")


@pytest.mark.django_db
def test_healthz_reports_postgresql_redis_and_the_worker(
    client: Client, celery_worker_process: CeleryWorker
) -> None:
    # given a running worker
    # when the health endpoint is asked
    response = client.get("/healthz")

    # then every check passes, on the real services
    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "database": {"ok": True, "vendor": "postgresql"},
        "broker": {"ok": True, "mode": "redis"},
        "workers": {"ok": True, "count": 1, "workers": [celery_worker_process.nodename]},
        "sandbox": {
            "ok": True,
            "python_lfs": "enabled",
            "isolation": "bubblewrap+seccomp",
            "bwrap": response.json()["sandbox"]["bwrap"],
        },
    }


def test_a_counter_is_one_incr_on_redis_and_reads_back_through_the_cache(real_services: RealServices) -> None:
    # given a counter nobody has counted yet, and a Redis monitor of the commands sent
    cache.delete("integration:counter")
    backend = caches["default"]
    client = backend._cache.get_client(write=True)  # Django keeps its client there

    # when it is counted three times
    with client.monitor() as monitor:
        values = [counter_incr("integration:counter") for _ in range(3)]
        cache.get("integration:counter")  # a last command, so that the monitor has seen all before it
        sent = []
        for message in monitor.listen():
            sent.append(message["command"])
            if message["command"].startswith("GET"):
                break

    # then each count was one INCR on the one client, and the cache reads the value back
    assert values == [1, 2, 3]
    counted = [command for command in sent if "integration:counter" in command]
    assert counted == ["INCRBY :1:integration:counter 1"] * 3 + ["GET :1:integration:counter"]
    assert backend._cache.get_client(write=True) is client
    assert cache.get("integration:counter") == 3
    cache.delete("integration:counter")


def test_a_count_and_a_read_are_one_round_trip_on_redis(real_services: RealServices) -> None:
    # given a counter, an integer and an object cached beside it (Django stores integers as themselves and
    # pickles the rest), and a connection pool that counts the connections it hands out
    for key in ("integration:pair", "integration:pair-int", "integration:pair-object"):
        cache.delete(key)
    cache.set("integration:pair-int", 50)
    cache.set("integration:pair-object", {"every": 50})
    pool = caches["default"]._cache.get_client(write=True).connection_pool
    handed = []
    original = pool.get_connection

    def counted(*args: object, **kwargs: object) -> object:
        handed.append(args)
        return original(*args, **kwargs)

    pool.get_connection = counted
    try:
        # when it is counted with a read of each, and of a missing key
        results = [
            counter_incr_and_get("integration:pair", "integration:pair-int"),
            counter_incr_and_get("integration:pair", "integration:pair-object"),
            counter_incr_and_get("integration:pair", "integration:pair-missing"),
        ]
    finally:
        del pool.get_connection

    # then each gave the new count and the value as the cache reads it, over one connection use each
    assert results == [(1, 50), (2, {"every": 50}), (3, None)]
    assert len(handed) == 3
    assert cache.get("integration:pair") == 3


def test_the_celery_worker_runs_below_the_web_servers_priority(celery_worker_process: CeleryWorker) -> None:
    # given the suite's worker (started with the default OVERSIGHT_WORKER_NICE) and its forked pool processes
    worker = psutil.Process(celery_worker_process.process.pid)
    processes = [worker, *worker.children(recursive=True)]

    # then every one of them runs at least at that niceness
    assert processes
    assert all(process.nice() >= settings.OVERSIGHT_WORKER_NICE for process in processes)
