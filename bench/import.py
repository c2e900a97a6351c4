"""Import benchmark: `items_import` on PostgreSQL and SQLite beside a raw COPY of the same rows.

Run from the repository root:

    .venv/bin/python bench/import.py [--rows 1000000] [--backends postgres,sqlite]
                                     [--pg-url postgres://postgres@127.0.0.1:5432/postgres] [--profile DIR]
                                     [--hostile] [--hostile-mb 100]

`--hostile` adds a table of hostile files (tests/security/hostile_files.py) of about 100 MB each: every one
must be imported or refused with peak RSS <= 500 MB, in seconds.

Every measurement runs in a fresh child process (this same file with `--child`), so its peak RSS is that
import's alone and Django is set up for one backend only. The parent generates the data, creates and drops
the throwaway PostgreSQL databases and SQLite folders, and prints the table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psycopg
from harness import (
    RESULT_MARKER,
    ROOT,
    migrate,
    peak_rss_mb,
    pg_database,
    profiler_start,
    profiler_stop,
    report,
)
from import_datasets import Dataset, datasets_build

# The targets (they apply to the generated file; the SMS collection is too small to amortise setup).
TARGET_ITEMS_PER_S = 100_000
TARGET_EXISTING_ITEMS_PER_S = 50_000  # into a project already holding as many items as the file brings
TARGET_SQLITE_ITEMS_PER_S = 30_000
TARGET_COPY_RATIO = 0.5
TARGET_PEAK_RSS_MB = 500
LABEL_STUDIO_REFERENCE = "Label Studio 1.23, default SQLite: about 3,000 items/s on this machine (issue)."
BENCH_SECRET_KEY = "bench-import-not-a-secret"  # noqa: S105 - throwaway key so DEBUG can stay off


# --- Parent: databases, child processes -------------------------------------------------------------------
def pg_checkpoint(admin_url: str) -> None:
    """Flushes earlier runs' dirty pages so one measurement does not pay for the previous one's writes."""
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute("CHECKPOINT")


def child_env(*, database_url: str, var_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in {"REDIS_URL", "DATABASE_URL"}}
    # REDIS_URL unset: Celery is eager and nothing is enqueued. DEBUG off (with a throwaway SECRET_KEY): with
    # DEBUG on, Django keeps every SQL statement in connection.queries, which would distort time and RSS.
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base", OVERSIGHT_DEBUG="0", SECRET_KEY=BENCH_SECRET_KEY,
        OVERSIGHT_VAR_DIR=str(var_dir), LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT),
    )  # fmt: skip
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def run_child(mode: str, spec: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", mode, "--spec", json.dumps(spec)]
    completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    sys.stdout.write(
        "".join(line + "\n" for line in completed.stdout.splitlines() if RESULT_MARKER not in line)
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stderr)
        raise SystemExit(f"the {mode} child failed with exit status {completed.returncode}")
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_MARKER)]
    return dict(json.loads(lines[-1][len(RESULT_MARKER) :]))


def measure_import(dataset: Dataset, backend: str, args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    var_dir = Path(tempfile.mkdtemp(prefix=f"{backend}-", dir=scratch))
    profile = str(Path(args.profile).resolve() / f"{dataset.name}-{backend}.prof") if args.profile else ""
    spec = {
        "dataset": asdict(dataset),
        "batch_size": args.batch_size,
        "profile": profile,
        "pg_url": args.pg_url,
    }
    try:
        if backend == "sqlite":
            env = child_env(database_url="", var_dir=var_dir)
            migrate(env)
            with contextlib.closing(sqlite3.connect(var_dir / "oversight.sqlite3")) as conn, conn:
                indexes_drop(conn, args.without_index)
            return run_child("import", spec, env)
        with pg_database(args.pg_url, f"oversight_bench_{os.getpid()}") as url:
            env = child_env(database_url=url, var_dir=var_dir)
            migrate(env)
            with psycopg.connect(url, autocommit=True) as conn:
                indexes_drop(conn, args.without_index)
            pg_checkpoint(args.pg_url)
            return run_child("import", spec, env)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


def indexes_drop(conn: Any, names: str) -> None:
    """What-if: the throwaway database (a PostgreSQL or SQLite connection: Django names the indexes alike on
    both) without these indexes (`--without-index`), to measure what they cost."""
    for name in filter(None, (part.strip() for part in names.split(","))):
        conn.execute(f'DROP INDEX IF EXISTS "{name}"')
        print(f"what-if: dropped the index {name} before the import")


def measure_raw_copy(dataset: Dataset, args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    with pg_database(args.pg_url, f"oversight_bench_raw_{os.getpid()}") as url:
        env = child_env(database_url=url, var_dir=scratch)
        pg_checkpoint(args.pg_url)
        return run_child("copy", {"dataset": asdict(dataset), "url": url, "admin_url": args.pg_url}, env)


# --- Children: one measurement each -------------------------------------------------------------------------
def process_peak_rss_mb() -> float:
    """This process image's own peak (VmHWM): unlike ru_maxrss, it does not start from the parent's peak, which
    Linux carries over exec (the hostile files' parent holds their generated contents for a while)."""
    status = Path("/proc/self/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024 / 1e6


def backend_cpu_seconds(pid: int) -> float:
    """CPU seconds the database server's process for this connection has used (same machine only)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_import(spec: dict[str, Any]) -> None:
    # Django can only be imported once the parent has pointed the environment at this run's database.
    import django

    django.setup()
    from django.db import connection

    from core.queries import statistics_refresh
    from imports.services.jobs import import_options_build, items_import
    from labeling.models import Annotation
    from projects.models import Item
    from projects.services.projects import LabelSpec, project_create

    dataset = Dataset(**spec["dataset"])
    project = project_create(
        name=f"Bench {dataset.name}", slug=f"bench-{dataset.name}".replace("_", "-"),
        labels=[LabelSpec(key=key) for key in dataset.labels], created_by=None,
    )  # fmt: skip
    options = import_options_build(**dataset.options)
    sizing = {"batch_size": spec["batch_size"]} if spec["batch_size"] else {}
    preloaded = 0
    if dataset.preload:  # untimed: the project's existing items, then the upkeep a day of use would have done
        preloaded = items_import(
            project=project, source=Path(dataset.preload), options=options, **sizing
        ).rows
        statistics_refresh([Item, Annotation])
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("CHECKPOINT")
        print(f"preloaded {preloaded:,} items into the project")
    server_pid = 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            server_pid = cursor.fetchone()[0]
    rss_before = peak_rss_mb()
    profiler = profiler_start(spec["profile"])
    server_before = backend_cpu_seconds(server_pid) if server_pid else 0.0
    client_before, started = time.process_time(), time.perf_counter()
    result = items_import(project=project, source=Path(dataset.path), options=options, **sizing)
    seconds = time.perf_counter() - started
    client_cpu = time.process_time() - client_before
    server_cpu = backend_cpu_seconds(server_pid) - server_before if server_pid else None
    profiler_stop(profiler, spec["profile"], what="import", own=18, cumulative=28)
    items = Item.objects.filter(project=project).count()
    if items != dataset.rows + preloaded or result.items_created != dataset.rows:
        raise SystemExit(f"expected {dataset.rows + preloaded} items, found {items} (result: {result})")
    report(
        {
            "seconds": seconds, "rows": result.rows, "items": items, "rss_before_mb": rss_before,
            "annotations": Annotation.objects.filter(project=project).count(), "peak_rss_mb": peak_rss_mb(),
            "vendor": connection.vendor, "batch_size": spec["batch_size"], "client_cpu": client_cpu,
            "server_cpu": server_cpu, "load": os.getloadavg()[0],
        }
    )  # fmt: skip


def child_copy(spec: dict[str, Any]) -> None:
    """The server's limit: COPY of the already parsed rows (and of the file's bytes) into bare tables."""
    import django

    django.setup()
    dataset = Dataset(**spec["dataset"])
    started = time.perf_counter()
    rows = parsed_rows(dataset)
    parse_seconds = time.perf_counter() - started
    with psycopg.connect(spec["url"]) as conn:
        conn.execute(
            "CREATE TABLE bench_bare (external_id text, text text, metadata jsonb, content_hash text, split text)"
        )
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cursor, cursor.copy("COPY bench_bare FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
        row_seconds = time.perf_counter() - started
    del rows
    report(
        {
            "parse_seconds": parse_seconds, "copy_rows_seconds": row_seconds,
            "copy_bytes_seconds": copy_file_bytes(dataset, spec["url"]),
        }
    )  # fmt: skip


def parsed_rows(dataset: Dataset) -> list[tuple[str, str, str, str, str]]:
    """The import's own reader and row builder, so the raw COPY writes exactly the values an import writes."""
    from imports.parsing import readers
    from imports.parsing.rows import RowBuilder
    from imports.services.jobs import import_options_build

    options = import_options_build(**dataset.options)
    builder = RowBuilder(
        mapping=options.mapping, label_keys=dataset.labels,
        label_names={key: key for key in dataset.labels}, multi_label=False,
    )  # fmt: skip
    reader_options = readers.ReaderOptions(
        delimiter=options.delimiter, has_header=options.has_header, columns=options.columns
    )
    path = Path(dataset.path)
    rows = []
    with path.open("rb") as stream:
        records = readers.read_csv(
            stream, size=path.stat().st_size, options=reader_options, progress=readers.Progress()
        )
        for ordinal, (line, record) in enumerate(records, start=1):
            row = builder.build(line, record, ordinal)
            rows.append((row.external_id, row.text, row.metadata_json, row.content_hash, row.split))
    return rows


def copy_file_bytes(dataset: Dataset, url: str) -> float:
    columns = ", ".join(f"{name} text" for name in dataset.copy_columns)
    with psycopg.connect(url) as conn:
        conn.execute(f"CREATE TABLE bench_bare_file ({columns})")
        conn.commit()
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy(f"COPY bench_bare_file FROM STDIN ({dataset.copy_options})") as copy,
            open(dataset.path, "rb") as stream,
        ):
            while chunk := stream.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        return time.perf_counter() - started


# --- Hostile files ------------------------------------------------------------------------------------------
@dataclass
class HostileCase:
    """A hostile file and what its import must end with: refused (with this start of message) or imported."""

    name: str
    path: str
    options: dict[str, Any]
    expect: str


def hostile_cases(scratch: Path, megabytes: int) -> list[HostileCase]:
    sys.path.insert(0, str(ROOT))
    from tests.security import hostile_files as hostile

    size, started = megabytes * hostile.MB, time.perf_counter()
    csv_path, csv_line = hostile.csv_with_bad_last_line(scratch / "nul.csv", size=size, bad=b"\x00")
    utf8_path, utf8_line = hostile.csv_with_bad_last_line(scratch / "utf8.csv", size=size, bad=b"\xff")
    jsonl_lines = size // 1030  # lines of about 1 KB
    cases = [
        HostileCase("JSON of '[' only", str(hostile.deep_json(scratch / "deep.json", depth=size)), {},
                    "Record 1: nested more than 64"),
        HostileCase("JSONL, last line 100k deep", str(hostile.deep_jsonl(scratch / "deep.jsonl", depth=100_000,
                    good_lines=jsonl_lines)), {}, f"Line {jsonl_lines + 1}: nested more than 64"),
        HostileCase(f"JSONL, one {megabytes} MB line", str(hostile.jsonl_one_long_line(scratch / "long.jsonl",
                    size=size)), {}, "Line 1: longer than" if size > 16 * hostile.MIB else "imported 1 rows"),
        HostileCase("zip, 1 MB -> 1 GiB", str(hostile.zip_bomb(scratch / "bomb.zip")), {"format": "wrench"},
                    "the archive expands to"),
        HostileCase(f"zip, says {megabytes} MB, is 1 GiB",
                    str(hostile.zip_bomb(scratch / "liar.zip", declared=size)), {"format": "wrench"},
                    "the archive is damaged"),
        HostileCase("CSV, NUL on the last line", str(csv_path), {"id_field": "id"}, f"Line {csv_line}: holds a NUL"),
        HostileCase("CSV, bad UTF-8 on the last line", str(utf8_path), {"id_field": "id"},
                    f"Line {utf8_line}: not valid UTF-8"),
        HostileCase("Parquet, bytes as text", str(hostile.parquet_with_values(
                    scratch / "bytes.parquet", [os.urandom(1000) for _ in range(size // 1000)])), {},
                    "Row 1: the text field"),
    ]  # fmt: skip
    print(f"generated {len(cases)} hostile files of ~{megabytes} MB in {time.perf_counter() - started:.1f} s")
    return cases


def measure_hostile(
    case: HostileCase, backend: str, args: argparse.Namespace, scratch: Path
) -> dict[str, Any]:
    var_dir = Path(tempfile.mkdtemp(prefix=f"{backend}-hostile-", dir=scratch))
    spec = {"case": asdict(case)}
    try:
        if backend == "sqlite":
            env = child_env(database_url="", var_dir=var_dir)
            migrate(env)
            return run_child("hostile", spec, env)
        with pg_database(args.pg_url, f"oversight_bench_hostile_{os.getpid()}") as url:
            env = child_env(database_url=url, var_dir=var_dir)
            migrate(env)
            return run_child("hostile", spec, env)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


def child_hostile(spec: dict[str, Any]) -> None:
    import django

    django.setup()
    from imports.parsing.errors import ImportFileError
    from imports.services.jobs import import_options_build, items_import
    from projects.models import Item
    from projects.services.projects import LabelSpec, project_create

    case = HostileCase(**spec["case"])
    labels = [LabelSpec(key="ham"), LabelSpec(key="spam")]
    project = project_create(name="Bench hostile", slug="bench-hostile", labels=labels, created_by=None)
    rss_before, started = process_peak_rss_mb(), time.perf_counter()
    try:
        result = items_import(
            project=project, source=Path(case.path), options=import_options_build(**case.options)
        )
        outcome = f"imported {result.rows:,} rows"
    except ImportFileError as exc:
        outcome = exc.message
    seconds = time.perf_counter() - started
    report({"seconds": seconds, "peak_rss_mb": process_peak_rss_mb(), "rss_before_mb": rss_before, "outcome": outcome,
            "items": Item.objects.filter(project=project).count()})  # fmt: skip


def hostile_table_row(case: HostileCase, backend: str, run: dict[str, Any]) -> list[str]:
    size = Path(case.path).stat().st_size / 1e6
    written_as_expected = (run["items"] > 0) == case.expect.startswith("imported")
    ok = (
        run["outcome"].startswith(case.expect)
        and written_as_expected
        and run["peak_rss_mb"] <= TARGET_PEAK_RSS_MB
    )
    outcome = run["outcome"] if len(run["outcome"]) <= 60 else run["outcome"][:57] + "..."
    return [case.name, backend, f"{size:,.1f}", f"{run['seconds']:.2f}", f"{run['peak_rss_mb']:.0f}",
            f"{run['rss_before_mb']:.0f}", outcome, "ok" if ok else "MISS"]  # fmt: skip


def print_hostile_table(rows: list[list[str]]) -> None:
    header = ["hostile file", "backend", "MB", "seconds", "peak RSS MB", "RSS before MB", "outcome", "target"]
    widths = [max(len(row[index]) for row in [header, *rows]) for index in range(len(header))]
    print()
    for line in [header, ["-" * width for width in widths], *rows]:
        print("| " + " | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)) + " |")


# --- Table --------------------------------------------------------------------------------------------------
def rate_target(dataset: Dataset, backend: str) -> int | None:
    if dataset.name == "generated":
        return TARGET_ITEMS_PER_S if backend == "postgres" else TARGET_SQLITE_ITEMS_PER_S
    if dataset.name == "generated_into_existing" and backend == "postgres":
        return TARGET_EXISTING_ITEMS_PER_S
    return None


def targets_verdict(dataset: Dataset, backend: str, rate: float, ratio: float | None, rss: float) -> str:
    if not dataset.name.startswith("generated"):
        return "n/a (small file)"
    target = rate_target(dataset, backend)
    checks = [f"rate {'ok' if target and rate >= target else 'MISS'} (>= {target:,})"] if target else []
    if backend == "postgres" and dataset.name == "generated":
        checks.append(f"ratio {'ok' if ratio is not None and ratio >= TARGET_COPY_RATIO else 'MISS'}")
    checks.append(f"rss {'ok' if rss <= TARGET_PEAK_RSS_MB else 'MISS'}")
    return ", ".join(checks)


def table_rows(dataset: Dataset, backend: str, run: dict[str, Any], raw: dict[str, Any] | None) -> list[str]:
    rate = run["rows"] / run["seconds"]
    raw_rate = dataset.rows / raw["copy_rows_seconds"] if raw else None
    ratio = rate / raw_rate if raw_rate else None
    server = run.get("server_cpu")
    # On an idle 2-core machine the wall time is bounded below by the busier of the two processes: the
    # import's (reading in one thread, writing in another) and the database server's.
    bound = max(run["client_cpu"], server or 0.0)
    return [
        dataset.name, backend, f"{run['rows']:,}", f"{run['seconds']:.2f}", f"{rate:,.0f}",
        f"{run['client_cpu']:.2f}", f"{server:.2f}" if server is not None else "-",
        f"{run['rows'] / bound:,.0f}" if bound else "-",
        f"{raw_rate:,.0f}" if raw_rate else "-", f"{ratio:.2f}" if ratio is not None else "-",
        f"{run['peak_rss_mb']:.0f}", f"{run['rss_before_mb']:.0f}", f"{run['load']:.1f}",
        targets_verdict(dataset, backend, rate, ratio, run["peak_rss_mb"]),
    ]  # fmt: skip


def print_table(rows: list[list[str]]) -> None:
    header = ["dataset", "backend", "rows", "seconds", "items/s", "client CPU s", "server CPU s",
              "CPU-bound items/s", "raw COPY items/s", "ours/COPY", "peak RSS MB", "RSS before MB", "load",
              "targets"]  # fmt: skip
    widths = [max(len(row[index]) for row in [header, *rows]) for index in range(len(header))]
    lines = [header, ["-" * width for width in widths], *rows]
    print()
    for line in lines:
        print("| " + " | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)) + " |")


def print_raw_copy(raws: dict[str, dict[str, Any]], datasets: list[Dataset]) -> None:
    for dataset in datasets:
        raw = raws.get(dataset.name)
        if raw and not dataset.preload:
            print(
                f"{dataset.name}: parse+validate only {dataset.rows / raw['parse_seconds']:,.0f} rows/s; raw COPY "
                f"of parsed rows {dataset.rows / raw['copy_rows_seconds']:,.0f} rows/s; raw COPY of the file's "
                f"bytes {dataset.rows / raw['copy_bytes_seconds']:,.0f} rows/s"
            )


# --- Entry point --------------------------------------------------------------------------------------------
def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the generated file")
    parser.add_argument("--backends", default="postgres,sqlite", help="comma-separated: postgres, sqlite")
    parser.add_argument(
        "--pg-url",
        default="postgres://postgres@127.0.0.1:5432/postgres",
        help="a server where this user may CREATE DATABASE (fresh ones are made and dropped)",
    )
    parser.add_argument(
        "--datasets", default="generated,generated_into_existing,sms_spam_uci",
        help="comma-separated: generated (into an empty project), generated_into_existing (N more rows into a "
        "project holding the N generated ones; PostgreSQL only), sms_spam_uci",
    )  # fmt: skip
    parser.add_argument("--batch-size", type=int, default=0, help="rows per batch (default: the setting)")
    parser.add_argument("--profile", default="", help="write a cProfile of each import to this folder")
    parser.add_argument(
        "--without-index", default="", metavar="NAMES",
        help="what-if: drop these indexes (comma-separated) from the database (either backend) before each import",
    )  # fmt: skip
    parser.add_argument("--hostile", action="store_true", help="also import the hostile files")
    parser.add_argument("--hostile-mb", type=int, default=100, help="size of each hostile file")
    parser.add_argument("--child", choices=["import", "copy", "hostile"], help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    return parser.parse_args()


def machine_line(args: argparse.Namespace, backends: list[str]) -> str:
    server = ""
    if "postgres" in backends:
        with psycopg.connect(args.pg_url) as conn:
            server = f", PostgreSQL {conn.info.server_version // 10000}.{conn.info.server_version % 10000}"
    return f"{os.cpu_count()} CPUs, Python {platform.python_version()}{server}, {platform.platform()}"


def main() -> None:
    args = parse_args()
    if args.child:
        {"import": child_import, "copy": child_copy, "hostile": child_hostile}[args.child](
            json.loads(args.spec)
        )
        return
    backends = [name.strip() for name in args.backends.split(",") if name.strip()]
    print(f"machine: {machine_line(args, backends)}")
    scratch = Path(tempfile.mkdtemp(prefix="oversight-bench-import-"))
    table: list[list[str]] = []
    hostile_rows: list[list[str]] = []
    raws: dict[str, dict[str, Any]] = {}
    try:
        datasets = datasets_build(set(args.datasets.split(",")), args.rows, scratch)
        for dataset in datasets:
            if "postgres" in backends:
                same = "generated" if dataset.preload and "generated" in raws else ""
                raws[dataset.name] = raws[same] if same else measure_raw_copy(dataset, args, scratch)
            for backend in backends:
                if dataset.preload and backend != "postgres":
                    continue
                print(f"importing {dataset.name} ({dataset.rows:,} rows) on {backend} ...", flush=True)
                run = measure_import(dataset, backend, args, scratch)
                table.append(table_rows(dataset, backend, run, raws.get(dataset.name)))
        for case in hostile_cases(scratch, args.hostile_mb) if args.hostile else []:
            for backend in backends:
                print(f"importing the hostile file '{case.name}' on {backend} ...", flush=True)
                hostile_rows.append(
                    hostile_table_row(case, backend, measure_hostile(case, backend, args, scratch))
                )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if hostile_rows:
        print_hostile_table(hostile_rows)
    print_table(table)
    print()
    print_raw_copy(raws, datasets)
    print(f"For scale: {LABEL_STUDIO_REFERENCE}")
    print(
        f"Targets: generated file >= {TARGET_ITEMS_PER_S:,} items/s on PostgreSQL and >= {TARGET_COPY_RATIO} of "
        f"the raw COPY rate, >= {TARGET_SQLITE_ITEMS_PER_S:,} items/s on SQLite; into a project already holding "
        f"the generated items >= {TARGET_EXISTING_ITEMS_PER_S:,} items/s; peak RSS <= {TARGET_PEAK_RSS_MB} MB."
    )
    print(
        "client CPU: the import's process (both threads); server CPU: its PostgreSQL backend; CPU-bound items/s: "
        "rows / the larger of the two, the rate an otherwise idle 2-core machine allows; load: 1-min load average."
    )


if __name__ == "__main__":
    main()
