"""Truth inference as the platform runs it, at scale, on PostgreSQL: a project of N items (default 1,000,000),
each answered by three of a pool of annotators, with ten labeling functions' votes stored as a run leaves them
(ItemLfVote rows, 30 to 60% coverage each); `inference_run_execute` reads every answer, fits the model,
replaces the project's posteriors (COPY) and queues doubtful items for review, timed by part. It runs twice:
into an empty table, then again replacing the first run's rows, as every later run of a project does.

    .venv/bin/python bench/truth_job.py [--items 1000000] [--classes 2] [--pg-url postgres://...]

The data are drawn from known confusion matrices (annotators right 55 to 95% of the time, LFs 60 to 90%
precise), so the accuracy of the posteriors is reported beside majority vote. The engine alone is timed in
bench/truth.py (`--section scale`).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import child_env, child_run, migrate, peak_rss_mb, pg_database, report

ANNOTATORS = 60
LFS = 10
ANSWERS_PER_ITEM = 3


def child_build(spec: dict[str, Any]) -> None:
    """Writes the project with COPY (untimed: this is the data the job reads)."""
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.db import connection

    from projects.models import Project
    from projects.services.projects import LabelSpec, project_create
    from weak_supervision.models import LabelingFunction

    n, k, seed = spec["items"], spec["classes"], spec["seed"]
    rng = np.random.default_rng(seed)
    keys = [f"c{i}" for i in range(k)]
    project = project_create(
        name="Bench truth", slug="bench-truth", labels=[LabelSpec(key=key) for key in keys], created_by=None
    )
    Project.objects.filter(pk=project.pk).update(review_confidence_threshold=0.6)
    users = User.objects.bulk_create(User(username=f"annotator{i}") for i in range(ANNOTATORS))
    functions = LabelingFunction.objects.bulk_create(
        LabelingFunction(project=project, name=f"lf{i}", kind="keyword") for i in range(LFS)
    )
    truth = rng.integers(0, k, n)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy("COPY labeling_item (project_id, external_id, text, metadata, content_hash, split, priority, "
                      "remaining, created_at, suggested_label) FROM STDIN") as copy:  # fmt: skip
            buffer = io.StringIO()
            for i in range(n):
                buffer.write(
                    f"{project.pk}\ti{i}\ttext {i}\t{{}}\t{i:064x}\t\t0\t0\t2026-12-06 00:00:00+00\t\n"
                )
                if i % 50_000 == 49_999:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
            copy.write(buffer.getvalue())
        cursor.execute("SELECT id FROM labeling_item WHERE project_id = %s ORDER BY id", [project.pk])
        ids = np.array([row[0] for row in cursor.fetchall()], dtype=np.int64)
        accuracy = rng.uniform(0.55, 0.95, ANNOTATORS)
        with raw.copy("COPY labeling_annotation (project_id, item_id, annotator_id, external_annotator, labels, "
                      "source, client_uuid, created_at, updated_at) FROM STDIN") as copy:  # fmt: skip
            for low in range(0, n, 50_000):
                buffer = io.StringIO()
                for i in range(low, min(n, low + 50_000)):
                    for a in rng.choice(ANNOTATORS, ANSWERS_PER_ITEM, replace=False):
                        answer = truth[i] if rng.random() < accuracy[a] else rng.integers(0, k)
                        buffer.write(f"{project.pk}\t{ids[i]}\t{users[a].pk}\t\t[\"{keys[answer]}\"]\thuman\t"
                                     f"{uuid.uuid4()}\t2026-12-06 00:00:00+00\t2026-12-06 00:00:00+00\n")  # fmt: skip
                copy.write(buffer.getvalue())
        with raw.copy(
            "COPY weak_supervision_itemlfvote (item_id, labeling_function_id, label) FROM STDIN"
        ) as copy:
            for j, function in enumerate(functions):
                target = j % k
                coverage = rng.uniform(0.3, 0.6)
                precision = rng.uniform(0.6, 0.9)
                off_rate = (1 - precision) / precision / max(1, k - 1)
                fires = rng.random(n) < coverage * np.where(truth == target, 1.0, off_rate)
                buffer = io.StringIO()
                for i in np.flatnonzero(fires):
                    buffer.write(f"{ids[i]}\t{function.pk}\t{keys[target]}\n")
                copy.write(buffer.getvalue())
        cursor.execute("ANALYZE")
    np.save(spec["truth_path"], np.stack([ids, truth]))
    report({"seconds": time.perf_counter() - started, "project": project.pk})


def child_infer(spec: dict[str, Any]) -> None:
    import django

    django.setup()
    from django.db import connection

    from oversight.models import ItemInferredLabel
    from oversight.services.truth import inference_run_execute, inference_run_start
    from projects.models import Project

    project = Project.objects.get(slug="bench-truth")
    # Twice: the first run writes into an empty table, the second replaces a million rows, as every later
    # automatic run of a project does.
    runs_seconds = []
    for _ in range(2):
        run = inference_run_start(project=project, user=None, enqueue=False).job
        started = time.perf_counter()
        run = inference_run_execute(run_id=run.pk)
        runs_seconds.append(time.perf_counter() - started)
    seconds = runs_seconds[0]
    _ids, truth = np.load(spec["truth_path"])
    keys = run.labels
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT item_id, label, majority FROM oversight_iteminferredlabel WHERE project_id = %s ORDER BY item_id",
            [project.pk],
        )
        rows = cursor.fetchall()
    index = {key: i for i, key in enumerate(keys)}
    inferred = np.array([index.get(row[1], -1) for row in rows])
    majority = np.array([index.get(row[2], -1) for row in rows])
    report({
        "seconds": seconds, "again_seconds": runs_seconds[1], "status": run.status, "error": run.error,
        "metrics": run.metrics, "variant": run.variant,
        "accuracy": float((inferred == truth).mean()),
        "majority_accuracy": float((majority == truth).mean()),  # ties count as wrong
        "rows": ItemInferredLabel.objects.filter(project=project).count(), "peak_rss_mb": peak_rss_mb(),
    })  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--classes", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--child", default="")
    parser.add_argument("--spec", default="{}")
    args = parser.parse_args()
    if args.child:
        {"build": child_build, "infer": child_infer}[args.child](json.loads(args.spec))
        return
    script = Path(__file__)
    with tempfile.TemporaryDirectory() as scratch, pg_database(args.pg_url, "bench_truth_job") as url:
        env = child_env(database_url=url, var_dir=Path(scratch))
        migrate(env)
        spec = {"items": args.items, "classes": args.classes, "seed": args.seed,
                "truth_path": str(Path(scratch) / "truth.npy")}  # fmt: skip
        built = child_run(script, "build", spec, env)
        print(
            f"built {args.items:,} items x {ANSWERS_PER_ITEM} answers + {LFS} LFs in {built['seconds']:.0f} s"
        )
        result = child_run(script, "infer", spec, env)
    m = result["metrics"]
    print()
    print(
        "| items | classes | answers | status | variant | read s | fit s | write s | total s | target | iterations"
        " | accuracy | majority vote | peak RSS MB | again: total s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    s = m.get("seconds", {})
    print(f"| {args.items:,} | {args.classes} | {sum(m.get('n_answers', {}).values()):,} | {result['status']} | "
          f"{result['variant']} | {s.get('read', 0):.1f} | {s.get('fit', 0):.1f} | {s.get('write', 0):.1f} | "
          f"{result['seconds']:.1f} | <= 30 s: {'met' if result['seconds'] <= 30 else 'MISSED'} | "
          f"{m.get('iterations')} | {result['accuracy']:.4f} | {result['majority_accuracy']:.4f} | "
          f"{result['peak_rss_mb']:.0f} | {result['again_seconds']:.1f} |")  # fmt: skip
    print(
        "read, fit, write: the second run's parts (the write ends before the commit); total: the whole run, its "
        "commit included; again: the second run, which replaces the first one's rows"
    )
    if result["error"]:
        print("error:", result["error"])


if __name__ == "__main__":
    main()
