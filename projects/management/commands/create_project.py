from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from projects.services.projects import label_specs_from_keys, project_create


class Command(BaseCommand):
    help = "Create a project with its labels. The --owner user (if given) becomes its owner."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--labels", required=True, help="Comma-separated label names, e.g. spam,ham")
        parser.add_argument("--name", default="", help="Display name (default: the slug)")
        parser.add_argument("--multi-label", action="store_true")
        parser.add_argument(
            "--kind", choices=["single", "multi", "spans"], default="",
            help="single: one label per item; multi: several; spans: the labels are entity types marked in the "
            "text (default: single, or multi with --multi-label)",
        )  # fmt: skip
        parser.add_argument(
            "--allow-overlapping-spans",
            action="store_true",
            help="Span projects: allow nested or overlapping spans",
        )
        parser.add_argument("--overlap", type=int, default=1, help="Annotations wanted per item")
        parser.add_argument("--instructions", default="", help="Markdown instructions for analysts")
        parser.add_argument("--owner", default="", help="Username of the owner")
        parser.add_argument("--json", action="store_true", help="Print a JSON summary as the last line")

    def handle(self, *args: Any, **options: Any) -> None:
        owner = None
        if options["owner"]:
            owner = get_user_model().objects.filter(username=options["owner"]).first()
            if owner is None:
                raise CommandError(f"There is no user called '{options['owner']}'.")
        try:
            project = project_create(
                name=options["name"] or options["slug"], slug=options["slug"],
                labels=label_specs_from_keys(options["labels"].split(",")), multi_label=options["multi_label"],
                kind=options["kind"], allow_overlapping_spans=options["allow_overlapping_spans"],
                overlap=options["overlap"], instructions=options["instructions"], created_by=owner,
            )  # fmt: skip
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        labels = list(project.labels.values_list("key", flat=True))
        if options["json"]:
            summary = {"project_id": project.pk, "slug": project.slug, "labels": labels, "kind": project.kind,
                       "multi_label": project.multi_label, "overlap": project.overlap}  # fmt: skip
            self.stdout.write(json.dumps(summary))
        else:
            self.stdout.write(
                self.style.SUCCESS(f"Created project '{project.slug}' with labels {', '.join(labels)}.")
            )
