"""Oversight benchmark: how long the reads behind the dashboard and the reviewer queue take on a big project.

Run from the repository root:

    .venv/bin/python bench/oversight.py [--items 100000] [--annotators 12] [--per-item 3]
                                        [--pg-url postgres://postgres@127.0.0.1:5432/postgres]

It creates a throwaway PostgreSQL database, a project of `--items` generated items each labeled by `--per-item`
of `--annotators` analysts (each right 70-95% of the time, the rest a random other label; a tenth of the items
are gold checks), then times, cold (nothing cached): the agreement report, the annotator-quality table, the
whole dashboard read, a rebuild of the review queue, and handing out / deciding review items. It prints a table
and drops the database.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261123
LABELS = ["billing", "technical", "account", "shipping", "feedback"]
BATCH = 20_000  # rows per bulk_create: large enough to amortise round trips, small enough for memory


def setup_django(db_url: str, scratch: Path) -> None:
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "config.settings.base", "OVERSIGHT_VAR_DIR": str(scratch),
        "MEDIA_ROOT": str(scratch / "media"), "SECRET_KEY": "bench-only", "OVERSIGHT_DEBUG": "0",
        "DATABASE_URL": db_url,
    })  # fmt: skip
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def build(items: int, annotators: int, per_item: int) -> Any:
    from django.contrib.auth import get_user_model

    from labeling.choices import GoldSource
    from labeling.models import Annotation, GoldLabel
    from projects.choices import Role
    from projects.models import Item, Membership
    from projects.services.projects import label_specs_from_keys, project_create

    rng = random.Random(SEED)
    project = project_create(
        name="Bench", slug="bench", labels=label_specs_from_keys(LABELS), overlap=per_item, created_by=None
    )
    users = [get_user_model().objects.create_user(username=f"analyst{i:02d}") for i in range(annotators)]
    Membership.objects.bulk_create(
        Membership(project=project, user=user, role=Role.ANALYST) for user in users
    )
    accuracy = {user.pk: 0.7 + 0.25 * index / max(annotators - 1, 1) for index, user in enumerate(users)}
    truth: dict[int, str] = {}
    for start in range(0, items, BATCH):
        rows = [
            Item(
                project=project,
                external_id=f"i{n}",
                text=f"message {n}",
                content_hash=f"{n:064d}",
                remaining=0,
            )
            for n in range(start, min(start + BATCH, items))
        ]
        for item in Item.objects.bulk_create(rows):
            truth[item.pk] = rng.choice(LABELS)
    annotations = []
    for item_id, label in truth.items():
        for user in rng.sample(users, per_item):
            answer = (
                label if rng.random() < accuracy[user.pk] else rng.choice([x for x in LABELS if x != label])
            )
            annotations.append(
                Annotation(project=project, item_id=item_id, annotator=user, labels=[answer], client_uuid=uuid.uuid4(),
                           lead_time_ms=rng.randint(800, 9000))
            )  # fmt: skip
        if len(annotations) >= BATCH:
            Annotation.objects.bulk_create(annotations)
            annotations = []
    Annotation.objects.bulk_create(annotations)
    GoldLabel.objects.bulk_create(
        GoldLabel(project=project, item_id=item_id, labels=[label], source=GoldSource.KNOWN, is_check=True)
        for item_id, label in list(truth.items())[::10]
    )
    return project, users


def timed(name: str, work: Callable[[], Any], rows: list[tuple[str, float, str]], note: str = "") -> Any:
    from django.core.cache import cache

    cache.clear()
    started = time.perf_counter()
    result = work()
    rows.append((name, time.perf_counter() - started, note))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--annotators", type=int, default=12)
    parser.add_argument("--per-item", type=int, default=3)
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    name = f"oversight_bench_{os.getpid()}"
    with psycopg.connect(args.pg_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(args.pg_url)
    db_url = urlunsplit(parts._replace(path=f"/{name}"))
    try:
        with tempfile.TemporaryDirectory() as scratch:
            setup_django(db_url, Path(scratch))
            run(args)
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(args.pg_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


def run(args: argparse.Namespace) -> None:
    from oversight.selectors.agreement import agreement_compute, agreement_get
    from oversight.selectors.dashboard import dashboard_get
    from oversight.selectors.quality import annotator_quality_list
    from oversight.services.review import review_decide, review_next, review_queue_refresh

    started = time.perf_counter()
    project, users = build(args.items, args.annotators, args.per_item)
    from projects.access import ProjectAccess

    owner_view = ProjectAccess(project=project, user=users[0], role="owner")  # read with an owner's eyes
    annotations = args.items * args.per_item
    print(f"Built {args.items:,} items, {annotations:,} annotations by {args.annotators} analysts "
          f"in {time.perf_counter() - started:.1f} s (PostgreSQL).\n")  # fmt: skip
    rows: list[tuple[str, float, str]] = []
    report = timed("agreement report (cold)", lambda: agreement_compute(project=project), rows)
    rows[-1] = (*rows[-1][:2], f"{len(report.pairs)} pairs, alpha {report.krippendorff_alpha}")
    agreement_get(project=project)
    started = time.perf_counter()
    agreement_get(project=project)
    rows.append(("agreement report (cached)", time.perf_counter() - started, "one query for the cache key"))
    quality = timed(
        "annotator quality table", lambda: annotator_quality_list(project=project, viewer=owner_view), rows
    )
    rows[-1] = (*rows[-1][:2], f"{len(quality)} analysts")
    timed("dashboard read (cold)", lambda: dashboard_get(project=project, viewer=owner_view), rows)
    started = time.perf_counter()
    dashboard_get(project=project, viewer=owner_view)
    rows.append(("dashboard read (cached, nothing changed)", time.perf_counter() - started, ""))
    added = timed("review queue rebuild", lambda: review_queue_refresh(project=project), rows)
    rows[-1] = (*rows[-1][:2], f"{sum(added.values()):,} items queued")
    reviewer = users[0]

    def decide_fifty() -> None:
        for _ in range(50):
            claim = review_next(project=project, reviewer=reviewer)
            assert claim is not None
            review_decide(project=project, reviewer=reviewer, item_id=claim.item.pk, labels=["billing"])

    timed("50 x (next review item + decision)", decide_fifty, rows)
    rows[-1] = (*rows[-1][:2], f"{rows[-1][1] / 50 * 1000:.1f} ms per item")
    print(f"{'operation':<42} {'seconds':>8}  note")
    for label, seconds, note in rows:
        print(f"{label:<42} {seconds:>8.2f}  {note}")


if __name__ == "__main__":
    main()
