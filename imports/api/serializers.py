from __future__ import annotations

import json
from typing import Any

from rest_framework import serializers

from projects.choices import ImportFormat, OnConflict
from projects.models import ImportJob


class ImportJobOutputSerializer(serializers.ModelSerializer[ImportJob]):
    progress = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id", "status", "format", "original_name", "options", "on_conflict", "rows_total", "items_created",
            "items_updated", "items_skipped", "annotations_imported", "votes_imported", "error", "error_line",
            "progress", "created_at", "started_at", "finished_at",
        ]  # fmt: skip

    def get_progress(self, job: ImportJob) -> dict[str, Any]:
        from imports.selectors import import_job_progress

        return import_job_progress(job=job)


class _JsonObjectField(serializers.JSONField):
    """Accepts a JSON object, also when sent as a string in a multipart form."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str):
            try:
                data = json.loads(data) if data.strip() else {}
            except json.JSONDecodeError as exc:
                raise serializers.ValidationError(f"Not valid JSON: {exc.msg}.") from exc
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise serializers.ValidationError("Expected an object mapping raw values to label keys.")
        return data


def _csv_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class ImportCreateInputSerializer(serializers.Serializer[Any]):
    file = serializers.FileField()
    format = serializers.ChoiceField(
        choices=ImportFormat.choices, required=False, allow_blank=True, default=""
    )
    on_conflict = serializers.ChoiceField(choices=OnConflict.choices, required=False, default=OnConflict.SKIP)
    text_field = serializers.CharField(required=False, default="text")
    id_field = serializers.CharField(required=False, allow_blank=True, default="")
    label_field = serializers.CharField(required=False, allow_blank=True, default="")
    split_field = serializers.CharField(required=False, allow_blank=True, default="")
    annotator_field = serializers.CharField(required=False, allow_blank=True, default="")
    metadata_fields = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Comma-separated; empty keeps all other fields.",
    )
    label_map = _JsonObjectField(required=False, default=dict)
    delimiter = serializers.CharField(required=False, allow_blank=True, default="", max_length=2)
    has_header = serializers.BooleanField(required=False, default=True)
    columns = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Comma-separated."
    )

    def validate_delimiter(self, value: str) -> str:
        value = {"\\t": "\t", "tab": "\t"}.get(value, value)
        if len(value) > 1:
            raise serializers.ValidationError("A delimiter is one character (use \\t for tab).")
        return value

    def validate_metadata_fields(self, value: str) -> list[str] | None:
        return _csv_list(value) or None

    def validate_columns(self, value: str) -> list[str]:
        return _csv_list(value)
