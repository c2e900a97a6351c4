from __future__ import annotations

import os
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from demo.services.seed import demo_seed


class Command(BaseCommand):
    help = "Create the demo admin and the demo project (idempotent). Credentials from OVERSIGHT_ADMIN_* or defaults."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--items", type=int, default=3000)

    def handle(self, *args: Any, **options: Any) -> None:
        username = os.environ.get("OVERSIGHT_ADMIN_USERNAME", "admin")
        password = os.environ.get("OVERSIGHT_ADMIN_PASSWORD", "oversight-demo")
        result = demo_seed(username=username, password=password, item_count=options["items"])
        project = result.project
        self.stdout.write(
            f"Demo project '{project.slug}': {project.items.count()} items "
            f"({result.imported.items_created} new), labels {', '.join(project.labels.values_list('key', flat=True))}."
        )
        if result.span_project is not None:
            spans = result.span_project
            self.stdout.write(f"Span demo project '{spans.slug}': {spans.items.count()} notes to mark people, cities "
                              "and products in.")  # fmt: skip
        if result.user_created:
            self.stdout.write(
                self.style.SUCCESS(f"Admin user created -> username: {username}  password: {password}")
            )
        else:
            self.stdout.write(f"Admin user '{username}' already exists (password unchanged).")
