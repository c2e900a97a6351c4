"""/healthz: liveness of the database, the broker and the workers."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client


@pytest.mark.django_db
def test_healthz_in_embedded_mode(client: Client) -> None:
    # given
    if not settings.EMBEDDED_MODE:
        pytest.skip("the integration run has a real broker and workers")

    # when
    response = client.get("/healthz")

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    assert response.json() == {
        "ok": True,
        "database": {"ok": True, "vendor": "sqlite"},
        "broker": {"ok": True, "mode": "embedded"},
        "workers": {"ok": True, "mode": "in-process", "count": 1},
        "sandbox": {
            "ok": True,
            "python_lfs": "enabled",
            "isolation": "bubblewrap+seccomp",
            "bwrap": response.json()["sandbox"]["bwrap"],
        },
    }


@pytest.mark.django_db
def test_healthz_says_why_python_lfs_are_disabled_without_stating_the_server_unhealthy(
    client: Client, settings: Any
) -> None:
    # given a server without bubblewrap
    from weak_supervision.isolation import isolation_reset

    if not settings.EMBEDDED_MODE:
        pytest.skip("the integration run has a real broker and workers")
    settings.SANDBOX_BWRAP = "/nonexistent/bwrap"
    isolation_reset()

    # when
    response = client.get("/healthz")

    # then the rest of the server is healthy, and Python LFs are reported disabled with the reason
    assert response.status_code == 200
    sandbox = response.json()["sandbox"]
    assert sandbox["ok"] is False
    assert sandbox["python_lfs"] == "disabled"
    assert "bubblewrap could not be started" in sandbox["reason"]


@pytest.mark.django_db
def test_healthz_reports_503_when_the_database_is_down(client: Client, monkeypatch: Any) -> None:
    # given
    if not settings.EMBEDDED_MODE:
        pytest.skip("the integration run has a real broker and workers")

    def broken_cursor(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database is gone")

    monkeypatch.setattr("core.health.connection.cursor", broken_cursor)

    # when
    response = client.get("/healthz")

    # then
    assert response.status_code == 503
    assert response.json()["ok"] is False
    assert response.json()["database"] == {"ok": False, "vendor": "sqlite", "error": "database is gone"}


def test_healthz_rejects_post(client: Client) -> None:
    # when
    response = client.post("/healthz")

    # then
    assert response.status_code == 405
