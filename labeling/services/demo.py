"""The demo that `make run` loads: an admin user and a support-triage project of generated items."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from labeling.choices import OnConflict
from labeling.demo_data import INSTRUCTIONS, LABELS, demo_records
from labeling.models import Project
from labeling.services.imports import ImportResult, import_options_build, items_import
from labeling.services.projects import LabelSpec, project_create

DEMO_SLUG = "support-triage"


@dataclass
class DemoResult:
    username: str
    password: str
    user_created: bool
    project: Project
    imported: ImportResult


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
            overlap=1,
            created_by=user,
        )
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "demo.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for record in demo_records(item_count):
                handle.write(json.dumps(record) + "\n")
        imported = items_import(
            project=project,
            source=path,
            options=import_options_build(format="jsonl", id_field="id", on_conflict=OnConflict.SKIP),
        )
    return DemoResult(username=username, password=password, user_created=created, project=project,
                      imported=imported)  # fmt: skip
