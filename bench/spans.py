"""Span labeling end to end on real data: WRENCH wikigold through import, LF run and snapshot, then the span
hot path on the real stack.

Run from the repository root:

    .venv/bin/python bench/spans.py [--hot-path] [--hot-items 10000] [--hot-seconds 30] [--json]

Part 1 (embedded default, a throwaway SQLite database): creates a span project (PER, LOC, ORG, MISC) as a
user would (`create_project --kind spans`), imports ../shared/data/ner/wrench_wikigold
(`import_items --format wrench`: train and test spans become evaluation-only, the valid split's spans the
project's usable gold, the 16 LFs' per-token outputs external span votes), runs `run_labeling_functions
--json` and prints, per split, the weak-span precision, recall and F1 (exact match, micro) of every
aggregator the run fitted beside token majority vote, per entity type for the delivered one, and which
aggregator the run chose on what evidence. The data README's check: majority vote over the 16 LFs scores
span P/R/F1 0.507 / 0.619 / 0.557 on the test split. It then takes a snapshot with the Hugging Face
token-classification export and loads it with `datasets`.

Part 2 (--hot-path): bench/labeling.py --spans on PostgreSQL, Redis, a Celery worker and gunicorn: 1 and 8
analysts submitting spans without pause on a 10,000-item span project (the targets of the hot-path issue:
next <= 6 and submit <= 8 SQL queries, p95 next+submit <= 15 ms for 1 analyst and <= 50 ms for 8).
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import embedded_django_setup

ROOT = Path(__file__).resolve().parent.parent
WIKIGOLD = ROOT.parent / "shared" / "data" / "ner" / "wrench_wikigold"
README_MAJORITY_VOTE = {"precision": 0.507, "recall": 0.619, "f1": 0.557}  # test split, ../shared/data/ner


def _command(*args: str, **options: Any) -> str:
    from django.core.management import call_command

    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def pipeline() -> dict[str, Any]:
    """Create, import, run, snapshot: the figures and the times of each step."""
    from datasets.services.snapshots import SnapshotRequest, snapshot_build, snapshot_create
    from projects.models import Project

    result: dict[str, Any] = {}
    _command("create_project", "wikigold", labels="PER,LOC,ORG,MISC", kind="spans")
    started = time.perf_counter()
    imported = json.loads(
        _command("import_items", "wikigold", str(WIKIGOLD), format="wrench", json=True)
        .strip()
        .splitlines()[-1]
    )
    result["import"] = {**imported, "wall_seconds": round(time.perf_counter() - started, 2)}
    started = time.perf_counter()
    run = json.loads(_command("run_labeling_functions", "wikigold", json=True).strip().splitlines()[-1])
    result["run"] = {**run, "wall_seconds": round(time.perf_counter() - started, 2)}
    project = Project.objects.get(slug="wikigold")
    started = time.perf_counter()
    request = SnapshotRequest(formats=["jsonl", "hf"], policy="gold+weak")
    snapshot = snapshot_build(snapshot_id=snapshot_create(project=project, user=None, request=request,
                                                          enqueue=False).pk)  # fmt: skip
    result["snapshot"] = {"status": snapshot.status, "error": snapshot.error, "version": snapshot.version,
                          "seconds": round(time.perf_counter() - started, 2),
                          "files": [entry.get("name") for entry in snapshot.manifest.get("files", [])],
                          "counts": snapshot.manifest.get("counts")}  # fmt: skip
    result["snapshot"]["hf"] = hf_load(snapshot)
    return result


HF_LOAD = (
    "import datasets, json, sys; "
    "ds = datasets.load_dataset('parquet', data_files=json.loads(sys.argv[1]), cache_dir=sys.argv[2]); "
    "feature = next(iter(ds.values())).features['ner_tags'].feature; "
    "print(json.dumps({'type': type(feature).__name__, 'ner_tags': feature.names, "
    "'rows': {split: ds[split].num_rows for split in ds}}))"
)


def hf_load(snapshot: Any) -> dict[str, Any]:
    """The snapshot's Hugging Face files loaded by Hugging Face's `datasets`, in a process of its own (here
    `datasets` is this project's app): rows per split and the tag names."""
    import os

    files = {entry["name"].split("/")[-1].split("-")[0]: entry["path"]
             for entry in snapshot.manifest.get("files", []) if entry["name"].startswith("hf/data/")}  # fmt: skip
    if not files:
        return {"error": "no Hugging Face files in the manifest"}
    with tempfile.TemporaryDirectory(prefix="oversight-bench-hf-") as scratch:
        loaded = subprocess.run(
            [sys.executable, "-c", HF_LOAD, json.dumps(files), str(Path(scratch) / "cache")],
            cwd=scratch, capture_output=True, text=True, check=True,
            env={**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PYTHONPATH": ""},
        )  # fmt: skip
    result: dict[str, Any] = json.loads(loaded.stdout.strip().splitlines()[-1])
    return result


def show(result: dict[str, Any]) -> None:
    imported, run = result["import"], result["run"]
    print(f"\nImport: {imported.get('items_created')} sentences in {imported.get('seconds')} s "
          f"({imported.get('items_per_second')} items/s; wall {imported['wall_seconds']} s)")  # fmt: skip
    print("\nWeak spans, exact-match micro precision / recall / F1, per split:\n")
    splits = run.get("splits", {})
    names: list[str] = []
    for entry in splits.values():
        for name in entry.get("aggregators", {}):
            if name not in names:
                names.append(name)
    header = ["split", *names, "delivered"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for split, entry in splits.items():
        cells = []
        for name in names:
            scores = entry.get("aggregators", {}).get(name)
            cells.append(
                f"{scores['precision']:.3f} / {scores['recall']:.3f} / {scores['f1']:.3f}" if scores else "-"
            )
        delivered = entry.get("weak_label")
        cells.append(f"**{delivered['f1']:.3f}**" if delivered else "-")
        print(f"| {split} | " + " | ".join(cells) + " |")
    test = splits.get("test", {})
    vote = test.get("majority_vote") or test.get("aggregators", {}).get("majority_vote")
    if vote:
        readme = " / ".join(str(README_MAJORITY_VOTE[key]) for key in ("precision", "recall", "f1"))
        print(f"\nTest majority vote {vote['precision']:.3f} / {vote['recall']:.3f} / {vote['f1']:.3f} "
              f"(data README: {readme})")  # fmt: skip
    delivered = test.get("weak_label") or {}
    per_type = delivered.get("per_type") or {}
    if per_type:
        print("\nDelivered weak spans per type, test split (P / R / F1):")
        for kind, scores in per_type.items():
            print(f"- {kind}: {scores['precision']:.3f} / {scores['recall']:.3f} / {scores['f1']:.3f}")
    print(f"\nChosen: {json.dumps(run.get('aggregator'))}")
    print(f"Run: {run['wall_seconds']} s wall")
    snapshot = result["snapshot"]
    error = f" error {snapshot['error']}" if snapshot["error"] else ""
    print(f"\nSnapshot v{snapshot['version']}: {snapshot['status']} in {snapshot['seconds']} s, files "
          f"{snapshot['files']}, counts {snapshot['counts']}{error}")  # fmt: skip
    print(f"Hugging Face load: {snapshot['hf']}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hot-path", action="store_true", help="also run bench/labeling.py --spans")
    parser.add_argument("--hot-items", default="10000")
    parser.add_argument("--hot-seconds", default="30")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not WIKIGOLD.is_dir():
        print(f"SKIPPED: {WIKIGOLD} is absent (it lives in ../shared/data).")
        return
    with tempfile.TemporaryDirectory(prefix="oversight-bench-spans-") as scratch:
        embedded_django_setup(Path(scratch), migrate_database=True)
        result = pipeline()
    show(result)
    if args.json:
        print(json.dumps(result, default=str))
    if args.hot_path:
        print("\nSpan hot path (bench/labeling.py --spans):\n", flush=True)
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "labeling.py"), "--spans", "--items", args.hot_items,
             "--loads", "1,8", "--seconds", args.hot_seconds],
            cwd=ROOT, check=True,
        )  # fmt: skip


if __name__ == "__main__":
    main()
