"""The demo that `make run` loads: an admin user and a support-triage project of generated items, with a small
team whose labeling history (overlapping answers, gold checks, a careless analyst) fills the oversight pages."""

from __future__ import annotations

import json
import random
import tempfile
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from active_learning.services.training import learner_settings_update
from demo.data import (
    CITIES,
    ENTITY_INSTRUCTIONS,
    ENTITY_TYPES,
    INSTRUCTIONS,
    LABELS,
    PRODUCTS,
    demo_records_with_topics,
    entity_records,
)
from imports.services.jobs import ImportResult, import_options_build, items_import
from labeling.models import Annotation, InteractionEvent
from labeling.services.annotations import annotation_submit
from oversight.services.review import KnownAnswer, gold_checks_set, review_decide
from projects.choices import OnConflict, ProjectKind, Role
from projects.models import Item, Membership, Project
from projects.services.members import membership_add
from projects.services.projects import LabelSpec, project_create, project_update
from weak_supervision.services.functions import labeling_function_create

DEMO_SLUG = "support-triage"
SPAN_DEMO_SLUG = "note-entities"
SPAN_DEMO_ITEMS = 400


# The demo team: (username, role, accuracy). Cleo is careless, so that the dashboard has someone to flag.
DEMO_TEAM = [
    ("ana", Role.ANALYST, 0.94),
    ("ben", Role.ANALYST, 0.86),
    ("cleo", Role.ANALYST, 0.55),
    ("rita", Role.REVIEWER, 1.0),
]
DEMO_LABELED_ITEMS = 240  # each answered by two analysts: enough for agreement figures, quick to seed
DEMO_GOLD_CHECKS = 24
DEMO_DAYS = 14


@dataclass
class DemoResult:
    username: str
    password: str
    user_created: bool
    project: Project
    imported: ImportResult
    team_seeded: bool = False
    span_project: Project | None = None


def demo_seed(*, username: str, password: str, item_count: int = 3000) -> DemoResult:
    """Creates (or keeps) the demo admin and project; importing the items again changes nothing."""
    user_model = get_user_model()
    with transaction.atomic():
        user = user_model.objects.filter(username=username).first()
        created = user is None
        if user is None:
            user = user_model.objects.create_superuser(username=username, email="", password=password)
        project = Project.objects.filter(slug=DEMO_SLUG).first() or project_create(
            name="Support ticket triage",
            slug=DEMO_SLUG,
            description="Route incoming customer messages to the right team.",
            instructions=INSTRUCTIONS,
            labels=[LabelSpec(key=key, name=name) for key, name in LABELS],
            overlap=2,
            created_by=user,
        )
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "demo.jsonl"
        topics = {}
        with path.open("w", encoding="utf-8") as handle:
            for record, topic in demo_records_with_topics(item_count):
                topics[record["id"]] = topic
                handle.write(json.dumps(record) + "\n")
        imported = items_import(
            project=project,
            source=path,
            options=import_options_build(format="jsonl", id_field="id", on_conflict=OnConflict.SKIP),
        )
    team_seeded = demo_team_seed(project=project, password=password, topics=topics)
    if team_seeded:  # the demo shows what the model thinks while analysts label
        learner_settings_update(project=project, show_suggestions=True)
    spans = demo_span_seed(owner=user)
    return DemoResult(username=username, password=password, user_created=created, project=project,
                      imported=imported, team_seeded=team_seeded, span_project=spans)  # fmt: skip


def demo_span_seed(*, owner: User, item_count: int = SPAN_DEMO_ITEMS) -> Project:
    """The span demo, once: generated support notes to mark people, cities and products in, the valid split's
    true spans as gold (decided by the owner), and three span LFs (two gazetteers and a regex) to run."""
    project = Project.objects.filter(slug=SPAN_DEMO_SLUG).first()
    if project is not None:
        return project
    project = project_create(
        name="Support note entities", slug=SPAN_DEMO_SLUG, kind=ProjectKind.SPANS, created_by=owner,
        description="Mark the people, cities and products named in support notes.",
        instructions=ENTITY_INSTRUCTIONS, labels=[LabelSpec(key=key, name=name) for key, name in ENTITY_TYPES],
    )  # fmt: skip
    truth: dict[str, list[dict[str, object]]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "notes.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for record, spans in entity_records(item_count):
                truth[record["id"]] = spans
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        options = import_options_build(format="jsonl", id_field="id", on_conflict=OnConflict.SKIP)
        items_import(project=project, source=path, options=options)
    for item in Item.objects.filter(project=project, split="valid").order_by("id"):
        review_decide(project=project, reviewer=owner, item_id=item.pk, spans=truth[item.external_id],
                      note="Known entities of the generated note.")  # fmt: skip
    rules: list[tuple[str, str, str, dict[str, Any]]] = [
        ("cities", "keyword", "city", {"keywords": CITIES, "case_sensitive": True}),
        ("products", "keyword", "product", {"keywords": PRODUCTS}),
        (
            "says or from",
            "regex",
            "person",
            {"pattern": r"\b([A-Z][a-zé]+) (?:says|from|asked)\b", "case_sensitive": True},
        ),
    ]
    for name, kind, label, spec in rules:
        labeling_function_create(project=project, user=owner, name=name, kind=kind, label=label, spec=spec)
    return project


def _demo_answer(rng: random.Random, truth: str, accuracy: float) -> str:
    if rng.random() < accuracy:
        return truth
    return rng.choice([key for key, _ in LABELS if key != truth])


def demo_team_seed(*, project: Project, password: str, topics: dict[str, str]) -> bool:
    """Gives the demo project a team and a labeling history, once (not when anyone has labeled it yet).

    The analysts answer through the same service as the browser; the history is then spread over the last
    DEMO_DAYS days, so that the dashboard's charts have a shape.
    """
    if Annotation.objects.filter(project=project).exists():
        return False
    rng = random.Random(20261123)
    members: dict[str, User] = {}
    for username, role, _ in DEMO_TEAM:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(username=username, password=password)
        if not Membership.objects.filter(project=project, user=user).exists():
            membership_add(project=project, username=username, role=role)
        members[username] = user
    items = list(Item.objects.filter(project=project).order_by("id")[: DEMO_LABELED_ITEMS + DEMO_GOLD_CHECKS])
    checks, labeled = items[:DEMO_GOLD_CHECKS], items[DEMO_GOLD_CHECKS:]
    gold_checks_set(
        project=project,
        answers=[KnownAnswer(line=i, external_id=item.external_id, labels=[topics[item.external_id]])
                 for i, item in enumerate(checks, 1)],
        by=None,
    )  # fmt: skip
    project_update(project=project, gold_check_rate=0.1, gold_min_checks=8)
    analysts = [(members[name], accuracy) for name, role, accuracy in DEMO_TEAM if role == Role.ANALYST]
    for index, item in enumerate(labeled):
        pair = [analysts[index % 3], analysts[(index + 1) % 3]]
        for user, accuracy in pair:
            _demo_submit(
                project, user, item, _demo_answer(rng, topics[item.external_id], accuracy), rng, accuracy
            )
    for item in checks:
        for user, accuracy in analysts:
            _demo_submit(
                project, user, item, _demo_answer(rng, topics[item.external_id], accuracy), rng, accuracy
            )
    _demo_spread_over_days(project=project, rng=rng)
    return True


def _demo_submit(
    project: Project, user: User, item: Item, label: str, rng: random.Random, accuracy: float
) -> None:
    # A careless analyst is also a fast one.
    lead_time = int(rng.lognormvariate(8.6 if accuracy > 0.8 else 7.2, 0.4))
    annotation_submit(
        project=project, user=user, item_id=item.pk, labels=[label], client_uuid=uuid.UUID(int=rng.getrandbits(128)),
        lead_time_ms=lead_time, input_method="hotkey",
    )  # fmt: skip


def _demo_spread_over_days(*, project: Project, rng: random.Random) -> None:
    """Moves the seeded history back in time: each annotation (and its events) to a working hour of one of
    the last DEMO_DAYS days, in the order they were made."""
    now = timezone.now()
    annotations = list(
        Annotation.objects.filter(project=project).order_by("id").values_list("id", "item_id", "annotator_id")
    )
    for position, (annotation_id, item_id, annotator_id) in enumerate(annotations):
        day = DEMO_DAYS - 1 - position * DEMO_DAYS // len(annotations)
        stamp = (now - timedelta(days=day)).replace(hour=9, minute=0) + timedelta(seconds=position * 40)
        Annotation.objects.filter(pk=annotation_id).update(created_at=stamp, updated_at=stamp)
        InteractionEvent.objects.filter(project=project, item_id=item_id, user_id=annotator_id).update(
            server_ts=stamp, client_ts=stamp
        )
