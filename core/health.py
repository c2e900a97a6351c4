"""Liveness of the database, the broker and the workers, for /healthz."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import current_app as celery_app  # config.celery, set as the current app when Django starts
from django.conf import settings
from django.db import connection


def _check_database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return {"ok": False, "vendor": connection.vendor, "error": str(exc)}
    return {"ok": True, "vendor": connection.vendor}


def _check_broker() -> dict[str, Any]:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"ok": True, "mode": "embedded"}
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return {"ok": False, "mode": "redis", "error": str(exc)}
    return {"ok": True, "mode": "redis"}


def _check_workers() -> dict[str, Any]:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"ok": True, "mode": "in-process", "count": 1}
    try:
        replies = celery_app.control.ping(timeout=1.0)
    except Exception as exc:
        return {"ok": False, "count": 0, "error": str(exc)}
    names = sorted(name for reply in replies or [] for name in reply)
    return {"ok": bool(names), "count": len(names), "workers": names}


# Reports of features that the server can run without (each app registers its own in AppConfig.ready):
# shown on /healthz but not part of "ok". The weak-supervision app reports its Python-LF sandbox here.
FEATURE_CHECKS: dict[str, Callable[[], dict[str, Any]]] = {}


def feature_check_register(name: str, check: Callable[[], dict[str, Any]]) -> None:
    FEATURE_CHECKS[name] = check


def health_check() -> dict[str, Any]:
    checks = {"database": _check_database(), "broker": _check_broker()}
    # Pinging workers through a dead broker only adds a timeout.
    checks["workers"] = _check_workers() if checks["broker"]["ok"] else {"ok": False, "count": 0}
    features = {name: check() for name, check in sorted(FEATURE_CHECKS.items())}
    return {"ok": all(check["ok"] for check in checks.values()), **checks, **features}
