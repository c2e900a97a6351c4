from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from datasets.choices import ExportFormat, LabelPolicy, SnapshotStatus, Trigger
from datasets.models import Snapshot
from datasets.services.snapshots import (
    DEFAULT_FORMATS,
    ERROR_FEWSHOT,
    SnapshotRequest,
    snapshot_build,
    snapshot_create,
)
from datasets.services.splits import SPLIT_RATIOS
from projects.commands import project_from_slug

SPLIT_ORDER = {str(split): index for index, split in enumerate(SPLIT_RATIOS)}


def _words(raw: str) -> list[str]:
    return [word.strip() for word in raw.split(",") if word.strip()]


def _sizes(raw: str) -> list[int]:
    try:
        return [int(word) for word in _words(raw)]
    except ValueError as exc:
        raise CommandError(ERROR_FEWSHOT) from exc


class Command(BaseCommand):
    help = (
        "Make a versioned snapshot of a project's labeled data (Parquet, JSON Lines, CSV, a Hugging Face "
        "layout, few-shot sets) and build it in this process, with or without workers."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug")
        parser.add_argument(
            "--policy", default=LabelPolicy.GOLD, help=f"One of {', '.join(LabelPolicy.values)}"
        )
        parser.add_argument(
            "--min-confidence", type=float, default=0.8, help="gold+weak and inferred: labels this sure"
        )
        parser.add_argument(
            "--formats",
            default=",".join(DEFAULT_FORMATS),
            help=f"Comma-separated, among {', '.join(ExportFormat.values)}",
        )
        parser.add_argument("--splits", default="", help="Keep only these splits, e.g. train,valid")
        parser.add_argument("--labels", default="", help="Keep only items with one of these labels")
        parser.add_argument("--fewshot", default="8,16,32", help="Few-shot sizes per class (empty: none)")
        parser.add_argument(
            "--exclude-label-errors", action="store_true",
            help="Leave out the items the latest label-error scan flags as probably mislabeled",
        )  # fmt: skip
        parser.add_argument("--json", action="store_true", help="Print the manifest as JSON on the last line")

    def handle(self, *args: Any, **options: Any) -> None:
        project = project_from_slug(options["slug"])
        request = SnapshotRequest(
            policy=options["policy"], min_confidence=options["min_confidence"],
            formats=_words(options["formats"]), splits=_words(options["splits"]),
            labels=_words(options["labels"]), fewshot_k=_sizes(options["fewshot"]),
            exclude_label_errors=options["exclude_label_errors"],
        )  # fmt: skip
        try:
            pending = snapshot_create(
                project=project, user=None, request=request, trigger=Trigger.CLI, enqueue=False
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        snapshot = snapshot_build(snapshot_id=pending.pk)
        if snapshot.status != SnapshotStatus.SUCCEEDED:
            raise CommandError(f"Snapshot {snapshot.label} {snapshot.status}: {snapshot.error.strip()}")
        if options["json"]:
            self.stdout.write(json.dumps(snapshot.manifest))
        else:
            self._print(snapshot)
            for warning in snapshot.manifest.get("warnings", []):
                self.stderr.write(f"warning [{warning['code']}]: {warning['message']}")

    def _print(self, snapshot: Snapshot) -> None:
        manifest = snapshot.manifest
        counts = manifest["counts"]["splits"]
        order = sorted(counts, key=lambda split: (SPLIT_ORDER.get(split, len(SPLIT_ORDER)), split))
        splits = ", ".join(f"{split or 'no split'} {counts[split]}" for split in order)
        self.stdout.write(
            f"{manifest['project']['slug']} v{snapshot.version}: {snapshot.row_count} rows ({splits}), "
            f"policy {snapshot.policy}, content hash {snapshot.content_hash[:12]}"
        )
        for entry in manifest["files"]:
            self.stdout.write(f"  {entry['name']:<40} {entry['bytes']:>12,} bytes  sha256 {entry['sha256']}")
        if manifest.get("inference"):
            inference = manifest["inference"]
            self.stdout.write(
                f"Inferred labels of inference run #{inference['run']} ({inference['engine']} "
                f"{inference['engine_version']}, {inference['variant']})"
            )
        errors = manifest.get("label_errors") or {}
        if errors.get("scan") is not None:
            self.stdout.write(
                f"Label-error scan #{errors['scan']}: {errors['flagged']} flagged, {errors['excluded']} left out"
            )
        self.stdout.write(f"Manifest: {manifest['manifest_path']}")
