"""Item browser benchmark: every filter and sort of the item browser on a million items, on PostgreSQL.

Run from the repository root:

    .venv/bin/python bench/item_filters.py [--items 1000000] [--annotated 0.1] [--repeat 3] [--explain]
                                           [--pg-url postgres://postgres@127.0.0.1:5432/postgres]

The parent creates a throwaway database, migrates it and starts a child (bench/harness.py), which builds a
project of `--items` generated items (texts of 8 to 20 words from a Zipf-like vocabulary) with:

- answers on `--annotated` of the items, two or three each by 12 analysts, a sixth of those items disagreeing,
  and their answer summaries computed by the statement the import writers run (`answer_summaries_refresh`, for
  the whole project; its time is printed);
- the items' search rows, written by the refresh a finished import hands to the workers
  (`item_search_refresh`; its time is printed);
- gold labels on 2% of the items (adjudicated; a third of them gold checks) and known answers on 0.5%;
- open flags on 0.5% (and resolved ones on 0.2%), open review requests on 1% (and resolved ones on 1%);
- a succeeded label-model run of 10 keyword LFs, its files written as a run writes them (a probabilities file,
  20 chunk files of votes, the end model's file), then stored as rows by the services the run's tasks call
  (`run_outputs_store`, `end_model_labels_store`): their time is printed;

then refreshes the planner's statistics (as imports do) and times each filter and sort through the browser's
FilterSet and selector: the count (up to 10,000, core.pagination) and the first page of 50, as the page and
the endpoint run them; once to warm up and `--repeat` times measured, printing the median and the worst
against the 300 ms target. `--explain` prints each query's plan. `--keep NAME` builds into a database it leaves
(with `--media DIR` for the run's files) and `--reuse NAME` measures on it again without building.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import child_env, child_run, database_url_for, migrate, pg_database, pg_execute, report

SEED = 20261206
LABELS = ["billing", "technical", "account"]
TARGET_MS = 300.0
COUNT_CAP = 10_000  # core.pagination.COUNT_CAP: the page and the endpoint count up to it
ANALYSTS = 12
LFS = 10
CHUNK = 50_000
VOCABULARY = [
    "refund", "invoice", "charge", "card", "payment", "login", "password", "reset", "account", "email", "error",
    "crash", "slow", "update", "install", "shipping", "delivery", "package", "tracking", "order", "cancel",
    "subscription", "plan", "upgrade", "price", "discount", "coupon", "help", "please", "thanks", "urgent",
    "today", "yesterday", "week", "again", "still", "never", "always", "broken", "missing", "wrong", "double",
    "customer", "support", "agent", "ticket", "phone", "app", "website", "browser", "mobile", "desktop",
]  # fmt: skip
FILLER = [f"w{n:04d}" for n in range(3000)]  # the long tail: each filler word is rare
RARE_WORD = "chargeback"  # in one text of 2,000


def _texts(rng: np.random.Generator, n: int) -> list[str]:
    words = np.asarray(VOCABULARY + FILLER)
    weights = 1.0 / np.arange(1, len(words) + 1) ** 0.9
    weights /= weights.sum()
    lengths = rng.integers(8, 21, size=n)
    drawn = rng.choice(len(words), size=int(lengths.sum()), p=weights)
    texts, start = [], 0
    rare = rng.random(n) < 1 / 2000
    for index, length in enumerate(lengths.tolist()):
        chosen = words[drawn[start : start + length]].tolist()
        start += length
        if rare[index]:
            chosen.append(RARE_WORD)
        texts.append(" ".join(chosen))
    return texts


def _copy(table: str, columns: list[str], rows: Any) -> None:
    from django.db import connection

    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def _ids(table: str, project_id: int) -> np.ndarray:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {table} WHERE project_id = %s ORDER BY id", [project_id])
        return np.asarray([row[0] for row in cursor.fetchall()], dtype=np.int64)


def build_people_and_items(spec: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    from django.contrib.auth.models import User
    from django.utils import timezone

    from projects.choices import Role
    from projects.models import Item, Membership
    from projects.services.projects import label_specs_from_keys, project_create

    owner = User.objects.create_user("owner")
    project = project_create(
        name="Filters", slug="filters", labels=label_specs_from_keys(LABELS), multi_label=False, overlap=3,
        description="", instructions="", created_by=owner,
    )  # fmt: skip
    analysts = [User.objects.create_user(f"analyst{n:02d}") for n in range(ANALYSTS)]
    Membership.objects.bulk_create(
        Membership(project=project, user=user, role=Role.ANALYST) for user in analysts
    )
    n = spec["items"]
    texts = _texts(rng, n)
    splits = np.asarray(["train", "train", "train", "train", "train", "train", "valid", "test", "test", ""])
    split_of = splits[rng.integers(0, len(splits), size=n)].tolist()
    now = timezone.now()
    _copy(Item._meta.db_table,
          ["project_id", "external_id", "text", "metadata", "content_hash", "split", "priority", "remaining",
           "created_at"],
          ((project.pk, f"doc-{index:07d}", text, "{}", hashlib.sha256(text.encode()).hexdigest(), split_of[index],
            0.0, 3, now) for index, text in enumerate(texts)))  # fmt: skip
    return {
        "project": project,
        "owner": owner,
        "analysts": analysts,
        "ids": _ids(Item._meta.db_table, project.pk),
    }


def build_answers(world: dict[str, Any], spec: dict[str, Any], rng: np.random.Generator) -> dict[str, int]:
    import uuid

    from django.utils import timezone

    from labeling.models import Annotation, Flag, GoldLabel
    from oversight.models import ReviewRequest

    project, ids, analysts = world["project"], world["ids"], world["analysts"]
    now = timezone.now()
    answered = rng.choice(ids, size=int(len(ids) * spec["annotated"]), replace=False)
    truth = rng.integers(0, len(LABELS), size=len(answered))
    disagree = rng.random(len(answered)) < 1 / 6
    rows = []
    for item_id, answer, split in zip(answered.tolist(), truth.tolist(), disagree.tolist(), strict=True):
        who = rng.choice(ANALYSTS, size=int(rng.integers(2, 4)), replace=False)
        for position, user_index in enumerate(who.tolist()):
            label = LABELS[(answer + position) % len(LABELS)] if split else LABELS[answer]
            rows.append((project.pk, item_id, analysts[user_index].pk, "", json.dumps([label]), "human",
                         str(uuid.uuid4()), now, now))  # fmt: skip
    _copy(Annotation._meta.db_table,
          ["project_id", "item_id", "annotator_id", "external_annotator", "labels", "source", "client_uuid",
           "created_at", "updated_at"], rows)  # fmt: skip
    shuffled = rng.permutation(ids)
    gold_n, known_n = int(len(ids) * 0.02), int(len(ids) * 0.005)
    golds = [(project.pk, int(item_id), json.dumps([LABELS[int(item_id) % 3]]),
              "adjudicated" if index < gold_n else "known", index % 3 == 0, "", "[]", now, now)
             for index, item_id in enumerate(shuffled[: gold_n + known_n])]  # fmt: skip
    _copy(GoldLabel._meta.db_table,
          ["project_id", "item_id", "labels", "source", "is_check", "note", "based_on", "created_at", "updated_at"],
          golds)  # fmt: skip
    flagged = rng.choice(ids, size=int(len(ids) * 0.007), replace=False)
    open_flags = int(len(ids) * 0.005)
    _copy(Flag._meta.db_table, ["project_id", "item_id", "user_id", "comment", "resolved_at", "created_at",
                                "updated_at"],
          ((project.pk, int(item_id), analysts[0].pk, "hm", None if index < open_flags else now, now, now)
           for index, item_id in enumerate(flagged.tolist())))  # fmt: skip
    reviewed = rng.choice(ids, size=int(len(ids) * 0.02), replace=False)
    half = len(reviewed) // 2
    _copy(ReviewRequest._meta.db_table,
          ["project_id", "item_id", "reasons", "detail", "priority", "status", "created_at", "updated_at"],
          ((project.pk, int(item_id), '["manual"]', "{}", 1, "open" if index < half else "resolved", now, now)
           for index, item_id in enumerate(reviewed.tolist())))  # fmt: skip
    return {"annotations": len(rows), "answered_items": len(answered), "gold": len(golds)}


def build_summaries(world: dict[str, Any]) -> float:
    """The answers' summaries, by the statement every writer of answers runs (here for the whole project)."""
    from labeling.services.answer_summary import answer_summaries_refresh

    started = time.perf_counter()
    answer_summaries_refresh(project=world["project"], item_ids=None)
    return time.perf_counter() - started


def build_search(world: dict[str, Any]) -> float:
    """The items' search rows, by the refresh a finished import hands to the workers."""
    from projects.services.search import item_search_refresh

    started = time.perf_counter()
    assert item_search_refresh(project_id=world["project"].pk) == len(world["ids"])
    seconds = time.perf_counter() - started
    world["project"].refresh_from_db()  # its search mark moved: a request reads the project as it is now
    return seconds


def build_run(world: dict[str, Any], rng: np.random.Generator) -> tuple[Any, dict[str, float]]:
    """A succeeded run's files, as a run writes them, then stored as rows by the services its tasks call."""
    from django.utils import timezone
    from scipy import sparse

    from core.storage import storage_write
    from weak_supervision.choices import EndModelStatus, RunStatus
    from weak_supervision.models import LabelingFunction, LabelModelRun, RunChunk
    from weak_supervision.services.end_model import end_model_path
    from weak_supervision.services.outputs import end_model_labels_store, run_outputs_store
    from weak_supervision.services.runs import _probabilities_bytes, probabilities_path

    project, ids = world["project"], world["ids"]
    lfs = [
        LabelingFunction.objects.create(project=project, name=f"lf{n}", kind="keyword") for n in range(LFS)
    ]
    chunks = [
        [int(ids[start]), int(ids[min(start + CHUNK, len(ids)) - 1])] for start in range(0, len(ids), CHUNK)
    ]
    run = LabelModelRun.objects.create(
        project=project, number=1, status=RunStatus.RUNNING, labels=LABELS, chunks=chunks, item_count=len(ids),
        lf_versions=[{"lf": lf.pk, "name": lf.name, "kind": "keyword", "version": 1} for lf in lfs],
    )  # fmt: skip
    # Each LF votes on 10-25% of the items, mostly for "its" label.
    coverage = rng.uniform(0.10, 0.25, size=LFS)
    votes = np.full((len(ids), LFS), -1, dtype=np.int8)
    for column in range(LFS):
        fires = rng.random(len(ids)) < coverage[column]
        label = np.where(
            rng.random(len(ids)) < 0.8, column % len(LABELS), rng.integers(0, len(LABELS), len(ids))
        )
        votes[fires, column] = label[fires]
    for index in range(len(chunks)):
        rows = slice(index * CHUNK, index * CHUNK + CHUNK)
        shifted = sparse.csr_matrix((votes[rows] + 1).astype(np.int8))
        buffer = io.BytesIO()
        np.savez(buffer, ids=ids[rows], data=shifted.data, indices=shifted.indices, indptr=shifted.indptr,
                 shape=np.asarray(shifted.shape), splits=np.asarray([""] * len(ids[rows])))  # fmt: skip
        path = f"weak_supervision/runs/{project.pk}/{run.pk}/chunk-{index}.npz"
        storage_write(path, buffer.getvalue())
        RunChunk.objects.create(run=run, index=index, path=path, rows=len(ids[rows]))
    probabilities = rng.dirichlet(np.ones(len(LABELS)) * 0.7, size=len(ids)).astype(np.float64)
    covered = (votes != -1).any(axis=1)
    storage_write(probabilities_path(run), _probabilities_bytes(ids, probabilities, covered))
    end = rng.dirichlet(np.ones(len(LABELS)), size=len(ids)).astype(np.float32)
    buffer = io.BytesIO()
    np.savez(buffer, ids=ids, probabilities=end, delivered=end)
    storage_write(end_model_path(run), buffer.getvalue())
    metrics = {"end_model": {"status": EndModelStatus.SUCCEEDED, "path": end_model_path(run)}}
    LabelModelRun.objects.filter(pk=run.pk).update(
        status=RunStatus.SUCCEEDED, probabilities_path=probabilities_path(run), metrics=metrics,
        finished_at=timezone.now(),
    )  # fmt: skip
    run.refresh_from_db()
    seconds = {}
    started = time.perf_counter()
    run_outputs_store(run=run)
    seconds["run_outputs_store (weak labels + LF votes)"] = time.perf_counter() - started
    started = time.perf_counter()
    end_model_labels_store(run=run)
    seconds["end_model_labels_store"] = time.perf_counter() - started
    return lfs, seconds


def cases(world: dict[str, Any], lfs: list[Any]) -> list[tuple[str, dict[str, str]]]:
    analyst, lf = str(world["analysts"][3].pk), str(lfs[2].pk)
    return [
        ("no filter", {}),
        ("q (common word: refund)", {"q": "refund"}),
        ("q (middling word: tracking)", {"q": "tracking"}),
        (f"q (rare word: {RARE_WORD})", {"q": RARE_WORD}),
        ("external_id", {"external_id": "doc-0500000"}),
        ("split=test", {"split": "test"}),
        ("labeled=true", {"labeled": "true"}),
        ("labeled=false", {"labeled": "false"}),
        ("label=billing (gold or any answer)", {"label": "billing"}),
        ("annotator", {"annotator": analyst}),
        ("disagreement=true", {"disagreement": "true"}),
        ("disagreement=false", {"disagreement": "false"}),
        ("gold=none", {"gold": "none"}),
        ("gold=any", {"gold": "any"}),
        ("gold=adjudicated", {"gold": "adjudicated"}),
        ("gold=check", {"gold": "check"}),
        ("flagged=true", {"flagged": "true"}),
        ("flagged=false", {"flagged": "false"}),
        ("in_review=true", {"in_review": "true"}),
        ("in_review=false", {"in_review": "false"}),
        ("lf (voted)", {"lf": lf}),
        ("lf + lf_vote=technical", {"lf": lf, "lf_vote": "technical"}),
        ("lf + lf_vote=abstain", {"lf": lf, "lf_vote": "abstain"}),
        ("weak_label=account", {"weak_label": "account"}),
        ("confidence 0.4-0.6", {"confidence_min": "0.4", "confidence_max": "0.6"}),
        ("end_model_label=billing", {"end_model_label": "billing"}),
        ("sort: confidence", {"ordering": "confidence"}),
        ("sort: -confidence", {"ordering": "-confidence"}),
        ("sort: -disagreement", {"ordering": "-disagreement"}),
        ("split=train + label=billing + confidence<=0.5", {"split": "train", "label": "billing",
                                                           "confidence_max": "0.5"}),
    ]  # fmt: skip


def measure(world: dict[str, Any], data: dict[str, str], repeat: int, explain: bool) -> dict[str, Any]:
    from core.pagination import CappedPaginator
    from oversight.filtersets import ItemFilterSet
    from oversight.selectors.items import item_browser_list
    from projects.access import ProjectAccess

    access = ProjectAccess(project=world["project"], user=world["owner"], role="owner")

    def once() -> tuple[float, float, int]:
        started = time.perf_counter()
        filterset = ItemFilterSet(
            data or None, queryset=item_browser_list(project=access.project), access=access
        )
        assert not filterset.is_bound or filterset.is_valid(), filterset.errors
        paginator = CappedPaginator(filterset.qs, 50)  # what the page and the endpoint count with
        count = paginator.count
        counted = time.perf_counter()
        page = list(paginator.page(1))
        assert len(page) == min(50, count)
        return (counted - started) * 1000, (time.perf_counter() - counted) * 1000, count

    once()
    timings = [once() for _ in range(repeat)]
    if explain:
        filterset = ItemFilterSet(
            data or None, queryset=item_browser_list(project=access.project), access=access
        )
        print(f"--- {data}\ncount: {filterset.qs.order_by().values('pk').explain(analyze=True)}")
        print(f"page: {filterset.qs[:50].explain(analyze=True)}\n")
    totals = [count_ms + page_ms for count_ms, page_ms, _ in timings]
    return {
        "count": timings[0][2], "count_ms": statistics.median(t[0] for t in timings),
        "page_ms": statistics.median(t[1] for t in timings), "median_ms": statistics.median(totals),
        "worst_ms": max(totals),
    }  # fmt: skip


def existing_world() -> tuple[dict[str, Any], list[Any], dict[str, int]]:
    """The world a `--keep` run built, read back for `--reuse`."""
    from django.contrib.auth.models import User

    from labeling.models import Annotation, GoldLabel
    from projects.models import Item, Project
    from weak_supervision.models import LabelingFunction

    project = Project.objects.get(slug="filters")
    analysts = list(User.objects.filter(username__startswith="analyst").order_by("username"))
    world = {"project": project, "owner": User.objects.get(username="owner"), "analysts": analysts,
             "ids": _ids(Item._meta.db_table, project.pk)}  # fmt: skip
    lfs = list(LabelingFunction.objects.filter(project=project).order_by("name"))
    answers = Annotation.objects.filter(project=project)
    sizes = {"annotations": answers.count(), "answered_items": answers.values("item_id").distinct().count(),
             "gold": GoldLabel.objects.filter(project=project).count()}  # fmt: skip
    return world, lfs, sizes


def child(spec: dict[str, Any]) -> None:
    import django

    django.setup()
    from django.db import connection

    from core.queries import statistics_refresh
    from labeling.models import Annotation, Flag, GoldLabel, ItemAnswerSummary
    from oversight.models import ReviewRequest
    from projects.models import Item, ItemSearchText

    rng = np.random.default_rng(SEED)
    started = time.perf_counter()
    if spec.get("reused"):
        world, lfs, sizes = existing_world()
        built: dict[str, float] = {}
        stored: dict[str, float] = {}
    else:
        world = build_people_and_items(spec, rng)
        built = {"items": time.perf_counter() - started}
        sizes = build_answers(world, spec, rng)
        built["answers, gold, flags, reviews"] = time.perf_counter() - started - built["items"]
        summaries = build_summaries(world)
        search = build_search(world)
        lfs, stored = build_run(world, rng)
        stored = {"answer_summaries_refresh (whole project)": summaries,
                  "item_search_refresh (search rows, after an import)": search, **stored}  # fmt: skip
        statistics_refresh(
            [Item, Annotation, ItemAnswerSummary, ItemSearchText, GoldLabel, Flag, ReviewRequest]
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0].split(" on ")[0]
    rows = [
        (name, data, measure(world, data, spec["repeat"], spec["explain"]))
        for name, data in cases(world, lfs)
    ]
    report({"built": built, "stored": stored, "sizes": sizes, "version": version,
            "rows": [[name, data, result] for name, data, result in rows]})  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--annotated", type=float, default=0.1, help="Share of the items with answers.")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", default="", help="Build into this database and leave it (for --reuse).")
    parser.add_argument("--reuse", default="", help="Measure on a database a --keep run left; build nothing.")
    parser.add_argument("--media", default="", help="With --keep/--reuse: the folder for the run's files.")
    parser.add_argument("--child", default="")
    parser.add_argument("--spec", default="{}")
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.spec))
        return
    spec = {"items": args.items, "annotated": args.annotated, "repeat": args.repeat, "explain": args.explain,
            "reused": bool(args.reuse)}  # fmt: skip
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-filters-") as scratch:
        if args.reuse or args.keep:  # --keep builds into a database it leaves; --reuse measures on it
            name = args.reuse or args.keep
            if args.keep:
                pg_execute(
                    args.pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'
                )
            env = child_env(
                database_url=database_url_for(args.pg_url, name), var_dir=Path(args.media or scratch)
            )
            migrate(env)
            result = child_run(Path(__file__), "measure", spec, env)
        else:
            with pg_database(args.pg_url, f"oversight_bench_filters_{os.getpid()}") as database_url:
                env = child_env(database_url=database_url, var_dir=Path(scratch))
                migrate(env)
                result = child_run(Path(__file__), "measure", spec, env)
    sizes = result["sizes"]
    print(f"{result['version']}; {args.items:,} items, {sizes['annotations']:,} answers on "
          f"{sizes['answered_items']:,} items, {sizes['gold']:,} gold labels, {LFS} LFs; built in "
          f"{sum(result['built'].values()):.0f} s, whole bench {time.perf_counter() - started:.0f} s")  # fmt: skip
    for name, seconds in result["stored"].items():
        print(f"{name}: {seconds:.1f} s")
    print(f"\n| filter | items | count ms | first page ms | total ms (median of {args.repeat}) | worst ms | "
          f"target {TARGET_MS:.0f} ms |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for name, _, row in result["rows"]:
        verdict = "met" if row["worst_ms"] <= TARGET_MS else "MISSED"
        items = f"more than {row['count'] - 1:,}" if row["count"] > COUNT_CAP else f"{row['count']:,}"
        print(f"| {name} | {items} | {row['count_ms']:.0f} | {row['page_ms']:.0f} | {row['median_ms']:.0f} "
              f"| {row['worst_ms']:.0f} | {verdict} |")  # fmt: skip


if __name__ == "__main__":
    main()
