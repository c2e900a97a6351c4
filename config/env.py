"""Environment variables, read once. Everything that differs between embedded and production mode is here."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name, "")
    return [part.strip() for part in raw.split(",") if part.strip()] or default


VAR_DIR = Path(os.environ.get("OVERSIGHT_VAR_DIR", str(BASE_DIR / "var")))
DEBUG = _bool("OVERSIGHT_DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
ALLOWED_HOSTS = _list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = _list("CSRF_TRUSTED_ORIGINS", [])
# PostgreSQL in production (postgres://user:pass@host:5432/db); SQLite under var/ when unset (embedded mode).
DATABASE_URL = os.environ.get("DATABASE_URL", "")
# Redis for the Celery broker, results and the cache; when unset, tasks run in-process (embedded mode).
REDIS_URL = os.environ.get("REDIS_URL", "")
# Seconds after which Redis hands a task that no worker acknowledged (its worker died) to another worker.
BROKER_VISIBILITY_TIMEOUT = int(os.environ.get("OVERSIGHT_BROKER_VISIBILITY_TIMEOUT", "900"))
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", str(VAR_DIR / "media")))
# Files (imports, snapshots) in an S3-compatible bucket instead of MEDIA_ROOT, through django-storages.
S3_BUCKET = os.environ.get("OVERSIGHT_S3_BUCKET", "")
S3_ENDPOINT_URL = os.environ.get("OVERSIGHT_S3_ENDPOINT_URL", "")  # MinIO, Ceph, R2...; blank: AWS
S3_REGION = os.environ.get("OVERSIGHT_S3_REGION", "")
S3_ACCESS_KEY_ID = os.environ.get("OVERSIGHT_S3_ACCESS_KEY_ID", "")
S3_SECRET_ACCESS_KEY = os.environ.get("OVERSIGHT_S3_SECRET_ACCESS_KEY", "")
S3_PREFIX = os.environ.get("OVERSIGHT_S3_PREFIX", "")
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", str(VAR_DIR / "static")))
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
