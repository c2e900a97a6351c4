"""What the PostgreSQL benchmarks share: a throwaway database, the environment of a measuring child process,
migrating it, running a child and reading its result line, the child's peak RSS and its optional profile.

Each measurement runs in a fresh child process (`<script> --child MODE --spec JSON`), so that its peak RSS is
its own and Django is set up for one database; the child prints one `BENCH-RESULT {json}` line.
"""

from __future__ import annotations

import contextlib
import cProfile
import json
import os
import pstats
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULT_MARKER = "BENCH-RESULT "
BENCH_SECRET_KEY = "bench-not-a-secret"  # noqa: S105 - throwaway key so DEBUG can stay off


def database_url_for(admin_url: str, name: str) -> str:
    parts = urlsplit(admin_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def pg_execute(admin_url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as admin:
        for statement in statements:
            admin.execute(statement)


@contextlib.contextmanager
def pg_database(admin_url: str, name: str, template: str = "") -> Iterator[str]:
    """A fresh database (empty, or a file copy of `template`), dropped afterwards."""
    source = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
    pg_execute(
        admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"{source}'
    )
    try:
        yield database_url_for(admin_url, name)
    finally:
        pg_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def child_env(*, database_url: str, var_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in {"REDIS_URL", "DATABASE_URL"}}
    # REDIS_URL unset: Celery is eager and nothing is enqueued. DEBUG off (with a throwaway SECRET_KEY): with
    # DEBUG on, Django keeps every SQL statement in connection.queries, which would distort time and RSS.
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base", OVERSIGHT_DEBUG="0", SECRET_KEY=BENCH_SECRET_KEY,
        OVERSIGHT_VAR_DIR=str(var_dir), MEDIA_ROOT=str(var_dir / "media"), LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT), DATABASE_URL=database_url, TMPDIR=str(var_dir),
    )  # fmt: skip
    return env


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )  # fmt: skip


def child_run(
    script: Path, mode: str, spec: dict[str, Any], env: dict[str, str], python: str = sys.executable
) -> dict[str, Any]:
    """Runs `script --child mode` and returns the result it reported; its other output is passed on."""
    command = [python, str(script.resolve()), "--child", mode, "--spec", json.dumps(spec)]
    completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    sys.stdout.write(
        "".join(line + "\n" for line in completed.stdout.splitlines() if RESULT_MARKER not in line)
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stderr[-6000:])
        raise SystemExit(f"the {mode} child failed with exit status {completed.returncode}")
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_MARKER)]
    return dict(json.loads(lines[-1][len(RESULT_MARKER) :]))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6  # ru_maxrss is in KiB on Linux


def report(result: dict[str, Any]) -> None:
    print(RESULT_MARKER + json.dumps(result), flush=True)


def profiler_start(path: str) -> Any:
    """A running cProfile profiler when `path` is given (where profiler_stop writes it), else None."""
    if not path:
        return None
    profiler = cProfile.Profile()
    profiler.enable()
    return profiler


def profiler_stop(profiler: Any, path: str, *, what: str, own: int, cumulative: int) -> None:
    """Writes the profile of `what` to `path` and prints its top functions by own and cumulative time."""
    if profiler is None:
        return
    profiler.disable()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(path)
    print(f"--- profile of the {what} ({path}), top functions by own time ---")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(own)
    print("--- by cumulative time ---")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(cumulative)


def embedded_django_setup(scratch: Path, *, migrate_database: bool = False) -> None:
    """Django in the embedded default (SQLite and media under `scratch`, tasks in-process), for the benchmarks
    that run the platform in their own process; migrated when asked."""
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "config.settings.base", "OVERSIGHT_VAR_DIR": str(scratch),
        "MEDIA_ROOT": str(scratch / "media"), "SECRET_KEY": BENCH_SECRET_KEY, "OVERSIGHT_DEBUG": "0",
    })  # fmt: skip
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    if migrate_database:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
