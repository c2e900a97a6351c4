from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils import html

from imports.parsing.rows import ON_DUPLICATE_CHOICES, ON_DUPLICATE_FAIL
from imports.selectors import import_job_evaluation_labels, import_job_progress
from imports.services.pipeline import delimiter_parse, eval_only_splits_parse
from projects.choices import ImportFormat, OnConflict
from projects.models import ImportJob


class ImportJobOutputSerializer(serializers.ModelSerializer[ImportJob]):
    progress = serializers.SerializerMethodField()
    evaluation_labels_imported = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id", "status", "format", "original_name", "options", "on_conflict", "rows_total", "items_created",
            "items_updated", "items_skipped", "annotations_imported", "votes_imported",
            "evaluation_labels_imported", "error", "error_line", "progress", "created_at", "started_at",
            "finished_at",
        ]  # fmt: skip

    def get_progress(self, job: ImportJob) -> dict[str, Any]:
        return import_job_progress(job=job)

    def get_evaluation_labels_imported(self, job: ImportJob) -> int:
        return import_job_evaluation_labels(job=job)


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


@extend_schema_field(
    {"oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}], "nullable": True}
)
class _SplitListField(serializers.Field[list[str] | None, Any, Any, Any]):
    """Evaluation-only splits: a list of split names (in a multipart form: the field once per split), or a
    comma-separated string."""

    def get_value(self, dictionary: Any) -> Any:
        if html.is_html_input(dictionary) and self.field_name in dictionary:
            values = dictionary.getlist(self.field_name)
            return values[0] if len(values) == 1 else values
        return super().get_value(dictionary)

    def to_internal_value(self, data: Any) -> list[str] | None:
        if not isinstance(data, str | list) or not all(isinstance(name, str) for name in data):
            raise serializers.ValidationError("Expected split names: a list, or a comma-separated string.")
        try:
            return eval_only_splits_parse(data)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages[0], code="eval_only_splits") from exc

    def to_representation(self, value: Any) -> Any:
        return value


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
    delimiter = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=16, trim_whitespace=False,
        help_text="One character, or tab, comma, semicolon, pipe or space (also \\t). Empty: from the file.",
    )  # fmt: skip
    on_duplicate = serializers.ChoiceField(
        choices=ON_DUPLICATE_CHOICES, required=False, default=ON_DUPLICATE_FAIL,
        help_text="A row repeating an earlier row's id: fail the import at its line, or skip it (counted, with "
        "its line, in the job's options.result).",
    )  # fmt: skip
    tag_scheme = serializers.ChoiceField(
        choices=["", "bio", "iob1"], required=False, default="",
        help_text="CoNLL (span projects): the tags' scheme, bio or iob1; empty to detect it (a file in which no "
        "B- tag opens a span is IOB1).",
    )  # fmt: skip
    has_header = serializers.BooleanField(required=False, default=True)
    columns = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Comma-separated."
    )
    eval_only_splits = _SplitListField(
        required=False, default=None, allow_null=True,
        help_text="Splits whose labels only score, never train or choose anything: a list (or comma-separated) "
        "of train, valid, test, or 'none' (or []). Left out or empty: the format's default (a WRENCH folder: "
        "train and test; other formats: none).",
    )  # fmt: skip

    def validate_delimiter(self, value: str) -> str:
        try:
            return delimiter_parse(value)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages[0], code="delimiter") from exc

    def validate_metadata_fields(self, value: str) -> list[str] | None:
        return _csv_list(value) or None

    def validate_columns(self, value: str) -> list[str]:
        return _csv_list(value)
