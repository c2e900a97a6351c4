"""Starts throwaway PostgreSQL and Redis servers for `pytest --real-services` (the integration suite).

pytest-django loads the Django settings inside `pytest_load_initial_conftests`. This plugin wraps that hook,
so both servers run, and DATABASE_URL and REDIS_URL point at them, before config/settings/test.py reads
the environment: Django then talks to PostgreSQL and Celery sends tasks through Redis to a real worker
(tests/integration/conftest.py starts it). The servers listen on free loopback ports, keep their data in
a temporary folder, and stop with the session; the machine's own PostgreSQL and Redis are never used.

Without `--real-services`, or where the binaries are missing, tests marked `integration` skip with the
reason. Under CI=true they fail instead: CI must never pass by skipping its integration tests.
"""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path

import port_for
import psycopg
import pytest
from pytest_postgresql.executors import PostgreSQLExecutor
from pytest_redis.executor import RedisExecutor

# Debian's PostgreSQL server binaries (the newest installed major); OVERSIGHT_PG_BIN names another folder.
DEBIAN_PG_ROOT = Path("/usr/lib/postgresql")
DATABASE_NAME = "oversight"
SUPERUSER = "postgres"
HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 60
# Durability buys nothing for a throwaway cluster; without it each commit skips an fsync.
POSTGRES_OPTIONS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
# PostgreSQL refuses to run as root (CI containers often are root): then it runs as this account.
UNPRIVILEGED_ACCOUNTS = ("postgres", "nobody")
REASON_NOT_REQUESTED = (
    "integration tests run against real services: pass --real-services (`make test-integration` does)."
)


@dataclass(frozen=True)
class RealServices:
    """Where the throwaway servers listen. `database_url` names the database the settings start from."""

    database_url: str
    redis_url: str
    postgres_port: int
    redis_port: int
    root: Path


services_key = pytest.StashKey[RealServices]()
unavailable_key = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--real-services",
        action="store_true",
        default=False,
        help="Start throwaway PostgreSQL, Redis and a Celery worker for the integration tests.",
    )


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> Generator[None, None, None]:
    # A wrapper runs before every plain implementation, pytest-django's (which loads the settings) included.
    if early_config.known_args_namespace.real_services:
        if not _is_xdist_controller(early_config):  # under `-n`, each xdist worker starts its own servers
            _services_start(early_config)
    else:
        early_config.stash[unavailable_key] = REASON_NOT_REQUESTED
    return (yield)


def pytest_report_header(config: pytest.Config) -> str | None:
    services = config.stash.get(services_key, None)
    if services is None:
        return None
    return f"real services: PostgreSQL {services.database_url}, Redis {services.redis_url}"


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("integration") is not None:
        _require_services(item.config)


@pytest.fixture(scope="session")
def real_services(pytestconfig: pytest.Config) -> RealServices:
    """The throwaway servers of this session; skips (fails under CI=true) when there are none."""
    return _require_services(pytestconfig)


def _require_services(config: pytest.Config) -> RealServices:
    services = config.stash.get(services_key, None)
    if services is not None:
        return services
    reason = config.stash.get(unavailable_key, REASON_NOT_REQUESTED)
    if in_ci():
        pytest.fail(f"{reason} (CI=true: integration tests may not be skipped)", pytrace=False)
    pytest.skip(reason)


# --- starting and stopping ------------------------------------------------------------------------------
def _services_start(config: pytest.Config) -> None:
    missing = _missing_binaries()
    if missing:
        reason = f"integration tests need {missing}."
        if in_ci():
            raise pytest.UsageError(f"--real-services under CI=true: {reason}")
        config.stash[unavailable_key] = reason
        return
    stack = _CleanupStack()
    # pytest runs config cleanups at the end and when start-up fails later on; atexit covers the rest.
    config.add_cleanup(stack.close)
    atexit.register(stack.close)
    try:
        services = _start_servers(stack)
    except Exception as exc:
        stack.close()
        raise pytest.UsageError(f"--real-services: {exc}") from exc
    variables = {"DATABASE_URL": services.database_url, "REDIS_URL": services.redis_url}
    if "OVERSIGHT_VAR_DIR" not in os.environ:  # uploads then go where the cleanup removes them
        variables["OVERSIGHT_VAR_DIR"] = str(services.root / "var")
    for name, value in variables.items():
        stack.push(_env_restorer(name))
        os.environ[name] = value
    config.stash[services_key] = services


def _is_xdist_controller(config: pytest.Config) -> bool:
    return bool(getattr(config.known_args_namespace, "numprocesses", None)) and (
        "PYTEST_XDIST_WORKER" not in os.environ
    )


def _missing_binaries() -> str:
    missing = []
    if _pg_ctl() is None:
        folder = _pg_bin_dir()
        missing.append(
            f"PostgreSQL's pg_ctl (looked in {folder} and on PATH; OVERSIGHT_PG_BIN names another folder)"
        )
    if shutil.which("redis-server") is None:
        missing.append("redis-server on PATH")
    return " and ".join(missing)


def _pg_bin_dir() -> Path:
    if os.environ.get("OVERSIGHT_PG_BIN"):
        return Path(os.environ["OVERSIGHT_PG_BIN"])
    majors = sorted(
        DEBIAN_PG_ROOT.glob("*/bin"),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    )
    return majors[-1] if majors else DEBIAN_PG_ROOT / "bin"


def _pg_ctl() -> str | None:
    candidate = _pg_bin_dir() / "pg_ctl"
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    return shutil.which("pg_ctl")


def _start_servers(stack: _CleanupStack) -> RealServices:
    root = Path(tempfile.mkdtemp(prefix="oversight-services-"))
    stack.push(lambda: shutil.rmtree(root, ignore_errors=True))
    redis_port = _start_redis(stack, root)
    postgres_port = _start_postgres(stack, root)
    return RealServices(
        database_url=f"postgres://{SUPERUSER}@{HOST}:{postgres_port}/{DATABASE_NAME}",
        redis_url=f"redis://{HOST}:{redis_port}/0",
        postgres_port=postgres_port,
        redis_port=redis_port,
        root=root,
    )


def _start_redis(stack: _CleanupStack, root: Path) -> int:
    datadir = root / "redis"
    datadir.mkdir()
    port = port_for.select_random()
    executor = RedisExecutor(
        shutil.which("redis-server") or "redis-server",
        databases=16,
        redis_timeout=0,
        loglevel="notice",
        host=HOST,
        port=port,
        startup_timeout=START_TIMEOUT_SECONDS,
        save="",
        rdbcompression=False,
        datadir=datadir,
    )
    try:
        executor.start()
    except Exception as exc:
        log = datadir / f"redis-server.{port}.log"
        raise RuntimeError(f"Redis did not start on {HOST}:{port} ({exc}). {_tail(log)}") from exc
    stack.push(executor.stop)
    return port


def _start_postgres(stack: _CleanupStack, root: Path) -> int:
    pg_ctl = _pg_ctl()
    assert pg_ctl is not None
    folder = root / "postgresql"
    folder.mkdir()
    if os.geteuid() == 0:
        pg_ctl = _unprivileged_pg_ctl(pg_ctl, root, folder)
    port = port_for.select_random()
    logfile = folder / "postgresql.log"
    executor = PostgreSQLExecutor(
        executable=pg_ctl,
        host=HOST,
        port=port,
        datadir=str(folder / "data"),
        unixsocketdir=str(folder),
        logfile=str(logfile),
        startparams="-w",
        dbname=DATABASE_NAME,
        user=SUPERUSER,
        postgres_options=POSTGRES_OPTIONS,
        timeout=START_TIMEOUT_SECONDS,
    )
    try:
        executor.start()
    except Exception as exc:
        if executor.running():
            executor.stop()
        raise RuntimeError(f"PostgreSQL did not start on {HOST}:{port} ({exc}). {_tail(logfile)}") from exc
    stack.push(executor.stop)
    with _connect_when_ready(port) as conn:
        conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    return port


def _connect_when_ready(port: int) -> psycopg.Connection[tuple[object, ...]]:
    """A connection once the server accepts them: on a loaded machine `pg_ctl -w` can return while the
    server still answers "the database system is starting up"."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        try:
            return psycopg.connect(host=HOST, port=port, user=SUPERUSER, dbname="postgres", autocommit=True)
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _unprivileged_pg_ctl(pg_ctl: str, root: Path, folder: Path) -> str:
    """A pg_ctl that first drops root for an unprivileged account, which then owns the cluster's folder."""
    account = next((_account(name) for name in UNPRIVILEGED_ACCOUNTS if _account(name)), None)
    if account is None:
        names = ", ".join(UNPRIVILEGED_ACCOUNTS)
        raise RuntimeError(
            f"PostgreSQL refuses to run as root, and no account ({names}) exists to run it as."
        )
    root.chmod(0o755)  # mkdtemp makes it root-only; the account must reach its folder inside
    os.chown(folder, account.pw_uid, account.pw_gid)
    wrapper = root / "pg_ctl"
    wrapper.write_text(
        f"#!{sys.executable} -I\n"
        "import os, sys\n"
        f"os.setgroups([]); os.setgid({account.pw_gid}); os.setuid({account.pw_uid})\n"
        f"os.execv({pg_ctl!r}, [{pg_ctl!r}, *sys.argv[1:]])\n"
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return str(wrapper)


def _account(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def _tail(path: Path, lines: int = 30) -> str:
    if not path.is_file():
        return f"(no log at {path})"
    text = "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return f"Last lines of {path}:\n{text}"


def _env_restorer(name: str) -> Callable[[], None]:
    previous = os.environ.get(name)

    def restore() -> None:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous

    return restore


class _CleanupStack:
    """Callbacks run once, last pushed first; a failing one does not stop the others."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[[], object]] = []

    def push(self, callback: Callable[[], object]) -> None:
        self._callbacks.append(callback)

    def close(self) -> None:
        while self._callbacks:
            callback = self._callbacks.pop()
            try:
                callback()
            except Exception as exc:  # teardown goes on; the message says what was left behind
                sys.stderr.write(f"real services: cleanup step failed: {exc!r}\n")
