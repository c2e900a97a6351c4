"""LF-application benchmark: a whole run (apply, store, fit, write probabilistic labels) on real workers,
beside Snorkel's PandasLFApplier applying the same 10 declarative LFs in this process.

Run from the repository root, with the machine's PostgreSQL and Redis:

    .venv/bin/python bench/lf_apply.py [--items 1000000] [--applier-sample 100000]
                                       [--pg-url postgres://postgres@127.0.0.1:5432/postgres]
                                       [--redis-url redis://127.0.0.1:6379/7]

What it does:
- creates a fresh PostgreSQL database, migrates it and imports N generated support-ticket items (the demo's
  generator: realistic text with a `channel` and a `customer` in metadata) through the import service;
- defines 10 declarative LFs (5 keyword, 3 regex, 2 metadata) through the LF service;
- PandasLFApplier: applies the same rules (their row-wise `vote`) to a sample of the items loaded into a
  DataFrame in this process, and reports rows/s (a full 1M-row pass would take minutes at its rate);
- ours: `run_start` on real, warm Celery worker processes (1, then 2 processes of concurrency 1), timed from
  the call to the finished run: chunked apply, chunk files, LabelModel fit, probabilities file;
- the sandbox: a Python LF with the same logic as one keyword rule, on the same sample, in the sandbox.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
LFS = [
    ("kw-billing", "keyword", "billing", {"keywords": ["invoice", "refund", "charged", "payment"]}),
    ("kw-technical", "keyword", "technical", {"keywords": ["crash", "error", "bug", "freezes"]}),
    ("kw-account", "keyword", "account", {"keywords": ["password", "login", "locked"]}),
    ("kw-shipping", "keyword", "shipping", {"keywords": ["delivery", "parcel", "tracking", "arrived"]}),
    ("kw-feedback", "keyword", "feedback", {"keywords": ["love", "great", "suggestion"]}),
    ("re-order-number", "regex", "shipping", {"pattern": r"\border\s*#?\d{4,}"}),
    ("re-money", "regex", "billing", {"pattern": r"[$€£]\s?\d+"}),
    ("re-reset", "regex", "account", {"pattern": r"reset (my|the) password"}),
    (
        "md-app-store",
        "metadata",
        "technical",
        {"field": "channel", "operator": "eq", "value": "app"},
    ),
    (
        "md-phone",
        "metadata",
        "billing",
        {"field": "channel", "operator": "in", "value": ["email", "web form"]},
    ),
]
WARM_UP_SECONDS = 6
PYTHON_LF = (
    "import re\n"
    "WORDS = re.compile(r'(?<!\\w)(?:invoice|refund|charged|payment)(?!\\w)', re.IGNORECASE)\n"
    "def label(item):\n"
    "    return 'billing' if WORDS.search(item.text) else None\n"
)


def database_url(admin_url: str, name: str) -> str:
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def prepare_environment(args: argparse.Namespace, scratch: Path) -> str:
    import psycopg

    name = f"oversight_bench_lf_{os.getpid()}"
    with psycopg.connect(args.pg_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DATABASE_URL": database_url(args.pg_url, name),
            "REDIS_URL": args.redis_url,
            "OVERSIGHT_VAR_DIR": str(scratch),
            "MEDIA_ROOT": str(scratch / "media"),
            "SECRET_KEY": "bench-only",
            "OVERSIGHT_DEBUG": "0",
        }
    )
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, check=True)
    return name


def drop_database(args: argparse.Namespace, name: str) -> None:
    import psycopg

    with psycopg.connect(args.pg_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def import_items(count: int, scratch: Path) -> Any:
    import json

    from demo.data import LABELS, demo_records
    from imports.services.jobs import import_options_build, items_import
    from projects.services.projects import LabelSpec, project_create

    project = project_create(
        name="LF bench",
        slug="lf-bench",
        labels=[LabelSpec(key=k, name=n) for k, n in LABELS],
        created_by=None,
    )
    path = scratch / "items.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for record in demo_records(count):
            handle.write(json.dumps(record) + "\n")
    started = time.perf_counter()
    items_import(project=project, source=path, options=import_options_build(format="jsonl", id_field="id"))
    print(f"imported {count:,} items in {time.perf_counter() - started:.1f} s")
    return project


def define_lfs(project: Any) -> list[Any]:
    from weak_supervision.declarative import rule_compile
    from weak_supervision.services.functions import labeling_function_create

    labels = list(project.labels.values_list("key", flat=True))
    rules = []
    for name, kind, label, spec in LFS:
        labeling_function_create(project=project, user=None, name=name, kind=kind, label=label, spec=spec)
        rules.append(rule_compile(kind, spec, labels.index(label)))
    return rules


def applier_rate(
    project: Any, rules: list[Any], sample: int
) -> tuple[float, float, list[str], list[dict[str, Any]]]:
    import pandas as pd
    from snorkel.labeling import LabelingFunction, PandasLFApplier

    from projects.models import Item

    rows = list(Item.objects.filter(project=project).order_by("id").values_list("text", "metadata")[:sample])
    texts, metadata = [r[0] for r in rows], [r[1] for r in rows]
    frame = pd.DataFrame({"text": texts, "metadata": metadata})
    lfs = [
        LabelingFunction(name=f"lf{i}", f=lambda x, rule=rule: rule.vote(x.text, x.metadata))
        for i, rule in enumerate(rules)
    ]
    started = time.perf_counter()
    PandasLFApplier(lfs).apply(frame, progress_bar=False)
    all_rate = len(rows) / (time.perf_counter() - started)
    started = time.perf_counter()
    PandasLFApplier(lfs[:1]).apply(frame, progress_bar=False)  # the Python LF's peer: the same single rule
    one_rate = len(rows) / (time.perf_counter() - started)
    return all_rate, one_rate, texts, metadata


def preview_timing(project: Any) -> float:
    """Seconds for the editor's preview of a new keyword rule, the best of three calls."""
    from weak_supervision.selectors import labeling_function_preview

    timings = []
    for _ in range(3):
        started = time.perf_counter()
        labeling_function_preview(
            project=project, kind="keyword", label="billing", spec={"keywords": ["overcharged", "bill"]}
        )
        timings.append(time.perf_counter() - started)
    return min(timings)


def start_workers(count: int, scratch: Path) -> list[subprocess.Popen[bytes]]:
    workers = []
    for index in range(count):
        log = (scratch / f"worker-{count}-{index}.log").open("wb")
        workers.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--pool=prefork",
                    "--concurrency=1",
                    f"--hostname=bench{count}-{index}@%h",
                    "--without-mingle",
                    "--without-gossip",
                    "--loglevel=WARNING",
                ],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    from config.celery import app

    deadline = time.monotonic() + 60
    while len(app.control.ping(timeout=0.5) or []) < count:
        if time.monotonic() > deadline:
            raise SystemExit("the Celery workers did not start within 60 s")
    # The main process answers pings; its pool process is still importing torch and Snorkel
    # (config.celery.WARM_UP, about 4 s). The timed run measures warm workers, as in production.
    time.sleep(WARM_UP_SECONDS)
    return workers


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        worker.wait(timeout=60)


def cpu_ticks() -> tuple[int, int] | None:
    """The machine's busy and total CPU time so far, in clock ticks (Linux's /proc/stat), or None elsewhere."""
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            fields = [int(value) for value in handle.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle and iowait
    return sum(fields) - idle, sum(fields)


def timed_run(project: Any) -> tuple[float, Any, float | None]:
    """Seconds from run_start to the finished run, the run, and how many of the machine's cores were busy
    on average meanwhile (workers, PostgreSQL, Redis, this process: everything)."""
    from weak_supervision.services.runs import run_start

    before = cpu_ticks()
    started = time.perf_counter()
    run = run_start(project=project, user=None)
    while not run.is_finished:
        time.sleep(0.05)
        run.refresh_from_db()
    seconds = time.perf_counter() - started
    after = cpu_ticks()
    if run.status != "succeeded":
        raise SystemExit(f"run {run.number} failed: {run.error[-2000:]}")
    busy = None
    if before and after and after[1] > before[1]:
        busy = (after[0] - before[0]) / (after[1] - before[1]) * (os.cpu_count() or 1)
    return seconds, run, busy


def end_model_wait(run: Any, timeout: float = 900) -> str:
    """Waits for the run's end model (trained by a task after the run) so that it never overlaps the next
    measurement; returns what it did."""
    started = time.perf_counter()
    while (run.metrics.get("end_model") or {}).get("status") == "pending":
        if time.perf_counter() - started > timeout:
            return f"still pending after {timeout:.0f} s"
        time.sleep(0.2)
        run.refresh_from_db()
    end = run.metrics.get("end_model") or {}
    return (
        f"{end.get('status')} in {end.get('seconds', '-')} s, trained on {end.get('n_train', '-')} items; test "
        f"split: {run.metrics['splits'].get('test', {}).get('end_model', 'no gold items')}"
    )


def phase_seconds(run: Any) -> str:
    from weak_supervision.models import RunChunk

    chunk_seconds = sum(RunChunk.objects.filter(run=run).values_list("seconds", flat=True))
    finish = run.finished_at - max(RunChunk.objects.filter(run=run).values_list("finished_at", flat=True))
    chunks = len(run.chunks)
    return (
        f"chunks {chunk_seconds:.1f} s of work in {chunks} chunks; finish step {finish.total_seconds():.1f} s "
        f"after the last chunk, of which inside the finish task: {run.metrics.get('seconds')}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--applier-sample", type=int, default=100_000)
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/7")
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed runs per worker count; the median counts"
    )
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="oversight-bench-lf-") as folder:
        scratch = Path(folder)
        name = prepare_environment(args, scratch)
        try:
            import django

            django.setup()
            project = import_items(args.items, scratch)
            rules = define_lfs(project)
            preview_seconds = preview_timing(project)
            print(f"preview of a keyword rule (10,000-item sample, 9 other LFs): {preview_seconds:.2f} s")
            rate, one_rate, texts, metadata = applier_rate(project, rules, args.applier_sample)
            print(
                f"PandasLFApplier: {rate:,.0f} rows/s (10 LFs), {one_rate:,.0f} rows/s (1 LF) on {len(texts):,} items"
            )
            results: dict[int, float] = {}
            busy_cores: dict[int, float] = {}
            for count in (1, 2):
                workers = start_workers(count, scratch)
                times, busies = [], []
                try:
                    for _ in range(args.repeat):
                        seconds, run, busy = timed_run(project)
                        end_model = end_model_wait(run)
                        times.append(seconds)
                        busies += [busy] if busy is not None else []
                        cores = (
                            f"; {busy:.2f} of {os.cpu_count()} cores busy on average"
                            if busy is not None
                            else ""
                        )
                        print(f"{count} worker(s): {seconds:.1f} s end to end{cores} ({phase_seconds(run)})")
                        print(
                            f"  then the end model (its own task, after the run; not timed above): {end_model}"
                        )
                finally:
                    stop_workers(workers)
                results[count] = statistics.median(times)
                if busies:
                    busy_cores[count] = statistics.median(busies)
                cores = f"; {busy_cores[count]:.2f} cores busy (median)" if busies else ""
                print(f"{count} worker(s): median of {len(times)} runs {results[count]:.1f} s "
                      f"(runs: {', '.join(f'{t:.1f}' for t in times)}){cores}")  # fmt: skip
            from weak_supervision.sandbox import python_votes

            started = time.perf_counter()
            for start in range(0, len(texts), 20_000):
                python_votes(
                    code=PYTHON_LF,
                    labels=list(project.labels.values_list("key", flat=True)),
                    texts=texts[start : start + 20_000],
                    metadata=metadata[start : start + 20_000],
                )
            sandbox_rate = len(texts) / (time.perf_counter() - started)
        finally:
            drop_database(args, name)
    report(args, rate, one_rate, results, sandbox_rate, busy_cores)
    print(
        f"| preview of a keyword rule, 1 call | 10,000 sampled of {args.items:,} | {preview_seconds:.2f} | | "
        f"| <= 1 s: {'met' if preview_seconds <= 1 else 'MISSED'} |"
    )


def report(
    args: argparse.Namespace,
    rate: float,
    one_rate: float,
    results: dict[int, float],
    sandbox_rate: float,
    busy_cores: dict[int, float],
) -> None:
    one, two = results[1], results[2]
    print(f"\nmachine: {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.platform()}\n")
    print("| measurement | items | seconds | items/s | vs PandasLFApplier | target |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(
        f"| PandasLFApplier (10 LFs, this process) | {args.applier_sample:,} | {args.applier_sample / rate:.1f} "
        f"| {rate:,.0f} | 1.00 | |"
    )
    for count, seconds in ((1, one), (2, two)):
        ours = args.items / seconds
        target = ">= 20x: " + ("met" if ours / rate >= 20 else "MISSED")
        print(
            f"| run on {count} worker(s): apply, store, fit, write (median) | {args.items:,} | {seconds:.1f} "
            f"| {ours:,.0f} "
            f"| {ours / rate:.2f} | {target} |"
        )
    # How much of the machine one worker already used (it reads its chunks from PostgreSQL as a stream, which
    # the database produces on another core meanwhile): what a second worker can add on this machine.
    used = f" (1 worker kept {busy_cores[1]:.2f} of {os.cpu_count()} cores busy)" if 1 in busy_cores else ""
    print(
        f"| 2 workers against 1 | | | | {one / two:.2f}x "
        f"| >= 1.7x: {'met' if one / two >= 1.7 else 'MISSED'}{used} |"
    )
    print(
        f"| PandasLFApplier, 1 LF (kw-billing) | {args.applier_sample:,} | {args.applier_sample / one_rate:.1f} "
        f"| {one_rate:,.0f} | 1.00 | |"
    )
    ratio = sandbox_rate / one_rate
    print(
        f"| the same LF as Python code in the sandbox | {args.applier_sample:,} "
        f"| {args.applier_sample / sandbox_rate:.1f} "
        f"| {sandbox_rate:,.0f} | {ratio:.2f} (against 1 LF) | >= 0.5x: {'met' if ratio >= 0.5 else 'MISSED'} |"
    )


if __name__ == "__main__":
    main()
