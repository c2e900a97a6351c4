from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from datasets.choices import ExportFormat, LabelPolicy
from datasets.models import Snapshot
from datasets.services.snapshots import DEFAULT_FORMATS, MAX_FEWSHOT_K, SnapshotRequest
from datasets.services.splits import SPLIT_RATIOS

MIN_CONFIDENCE_HELP = "gold+weak and inferred: weak or inferred labels at least this sure."
EXCLUDE_LABEL_ERRORS_HELP = "Leave out the items the latest label-error scan flags as probably mislabeled."


class SnapshotCreateInputSerializer(serializers.Serializer[Any]):
    policy = serializers.ChoiceField(
        choices=LabelPolicy.choices, default=LabelPolicy.GOLD,
        help_text="inferred: truth inference's labels (400 while the project has no succeeded inference run).",
    )  # fmt: skip
    min_confidence = serializers.FloatField(
        min_value=0.0, max_value=1.0, default=0.8, help_text=MIN_CONFIDENCE_HELP
    )
    formats = serializers.MultipleChoiceField(
        choices=ExportFormat.choices, allow_empty=False, default=lambda: {str(fmt) for fmt in DEFAULT_FORMATS}
    )
    splits = serializers.MultipleChoiceField(
        choices=[str(split) for split in SPLIT_RATIOS],
        default=set,
        help_text="Keep only these splits (empty: all).",
    )
    labels = serializers.ListField(
        child=serializers.CharField(max_length=64), default=list,
        help_text="Keep only items with one of these labels (empty: all).",
    )  # fmt: skip
    fewshot_k = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_FEWSHOT_K), default=[8, 16, 32],
        help_text="Few-shot support-set sizes per class.",
    )  # fmt: skip
    exclude_label_errors = serializers.BooleanField(default=False, help_text=EXCLUDE_LABEL_ERRORS_HELP)

    def snapshot_request(self) -> SnapshotRequest:
        data = self.validated_data
        return SnapshotRequest(
            policy=data["policy"], min_confidence=data["min_confidence"], formats=sorted(data["formats"]),
            splits=sorted(data["splits"]), labels=list(data["labels"]), fewshot_k=list(data["fewshot_k"]),
            exclude_label_errors=data["exclude_label_errors"],
        )  # fmt: skip


class SnapshotDiffInputSerializer(serializers.Serializer[Any]):
    old = serializers.IntegerField(min_value=1, help_text="The older version number.")
    new = serializers.IntegerField(min_value=1, help_text="The newer version number.")


class SnapshotFileOutputSerializer(serializers.Serializer[Any]):
    format = serializers.CharField()
    name = serializers.CharField()
    bytes = serializers.IntegerField()
    sha256 = serializers.CharField()
    url = serializers.CharField(help_text="Where the API streams it.")


class SnapshotOutputSerializer(serializers.ModelSerializer[Snapshot]):
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)
    schedule = serializers.CharField(source="schedule.name", default=None, allow_null=True)
    run = serializers.IntegerField(
        source="run.number", default=None, allow_null=True, help_text="The label model run used."
    )
    files = serializers.SerializerMethodField()

    class Meta:
        model = Snapshot
        fields = [
            "id", "version", "status", "error", "trigger", "created_by", "schedule", "policy", "min_confidence",
            "formats", "filters", "fewshot_k", "exclude_label_errors", "run", "row_count", "content_hash", "files",
            "created_at", "started_at", "finished_at",
        ]  # fmt: skip

    @extend_schema_field(SnapshotFileOutputSerializer(many=True))
    def get_files(self, snapshot: Snapshot) -> list[dict[str, Any]]:
        """The manifest's files, each with its API download URL (empty until the snapshot has a version)."""
        if not snapshot.version:
            return []
        request = self.context.get("request")
        files = []
        for entry in snapshot.manifest.get("files", []):
            url = reverse(
                "datasets-api:snapshot-file", args=[snapshot.project.slug, snapshot.version, entry["name"]]
            )
            files.append({
                **{key: entry[key] for key in ("format", "name", "bytes", "sha256")},
                "url": request.build_absolute_uri(url) if request is not None else url,
            })  # fmt: skip
        return files


class SnapshotDetailOutputSerializer(SnapshotOutputSerializer):
    class Meta(SnapshotOutputSerializer.Meta):
        fields = [*SnapshotOutputSerializer.Meta.fields, "manifest"]


class SnapshotDiffOutputSerializer(serializers.Serializer[Any]):
    old = serializers.IntegerField()
    new = serializers.IntegerField()
    added = serializers.IntegerField()
    removed = serializers.IntegerField()
    relabeled = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    per_class = serializers.DictField(
        child=serializers.DictField(child=serializers.IntegerField()),
        help_text="label -> added, removed, relabeled_from, relabeled_to",
    )
    transitions = serializers.ListField(
        child=serializers.DictField(), help_text='{"from", "to", "count"}, most frequent first'
    )
    examples = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="a few external ids per kind: added, removed, relabeled",
    )
    schema_changes = serializers.ListField(
        child=serializers.DictField(),
        help_text='Label-schema changes between the versions, oldest first: {"action", "key", "into", "before", '
        '"after", "counts", "at"}; a merge explains its transitions.',
    )
