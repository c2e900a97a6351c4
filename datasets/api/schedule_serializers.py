"""Export schedules over REST: input (create, change) and output. The services check cadence and ranges."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from datasets.api.serializers import EXCLUDE_LABEL_ERRORS_HELP, MIN_CONFIDENCE_HELP
from datasets.choices import ExportFormat, LabelPolicy
from datasets.models import ExportSchedule, Snapshot
from datasets.services.snapshots import DEFAULT_FORMATS, SnapshotRequest

EXPORT_FIELDS = (
    "policy",
    "min_confidence",
    "formats",
    "splits",
    "labels",
    "fewshot_k",
    "exclude_label_errors",
)
EVERY_HELP = "Run every N (1-10000) hours or days; null with a crontab."
CRONTAB_HELP = "'minute hour day month weekday' in UTC, e.g. '0 3 * * 1-5'; empty with an interval."


class ExportScheduleCreateInputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=200)
    policy = serializers.ChoiceField(choices=LabelPolicy.choices, default=LabelPolicy.GOLD)
    min_confidence = serializers.FloatField(default=0.8, help_text=MIN_CONFIDENCE_HELP)
    formats = serializers.ListField(
        child=serializers.ChoiceField(choices=ExportFormat.choices),
        default=lambda: [str(fmt) for fmt in DEFAULT_FORMATS],
    )
    every = serializers.IntegerField(allow_null=True, default=None, help_text=EVERY_HELP)
    period = serializers.ChoiceField(choices=ExportSchedule.Every.choices, default=ExportSchedule.Every.DAYS)
    crontab = serializers.CharField(allow_blank=True, default="", max_length=100, help_text=CRONTAB_HELP)
    keep_last = serializers.IntegerField(default=10, help_text="Versions the schedule keeps (1-1000).")
    splits = serializers.ListField(child=serializers.CharField(max_length=8), default=list)
    labels = serializers.ListField(child=serializers.CharField(max_length=64), default=list)
    fewshot_k = serializers.ListField(child=serializers.IntegerField(), default=lambda: [8, 16, 32])
    exclude_label_errors = serializers.BooleanField(default=False, help_text=EXCLUDE_LABEL_ERRORS_HELP)

    def service_kwargs(self) -> dict[str, Any]:
        """The validated data as export_schedule_create takes it (the export settings as one request)."""
        data = dict(self.validated_data)
        data["request"] = SnapshotRequest(**{key: data.pop(key) for key in EXPORT_FIELDS})
        return data


class ExportScheduleUpdateInputSerializer(serializers.Serializer[Any]):
    """Only the fields given change. A crontab alone switches an interval schedule to it, and the other way."""

    name = serializers.CharField(max_length=200, required=False)
    policy = serializers.ChoiceField(choices=LabelPolicy.choices, required=False)
    min_confidence = serializers.FloatField(required=False)
    formats = serializers.ListField(
        child=serializers.ChoiceField(choices=ExportFormat.choices), required=False
    )
    every = serializers.IntegerField(allow_null=True, required=False, help_text=EVERY_HELP)
    period = serializers.ChoiceField(choices=ExportSchedule.Every.choices, required=False)
    crontab = serializers.CharField(allow_blank=True, required=False, max_length=100, help_text=CRONTAB_HELP)
    keep_last = serializers.IntegerField(required=False)
    enabled = serializers.BooleanField(required=False)
    splits = serializers.ListField(child=serializers.CharField(max_length=8), required=False)
    labels = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
    fewshot_k = serializers.ListField(child=serializers.IntegerField(), required=False)
    exclude_label_errors = serializers.BooleanField(required=False, help_text=EXCLUDE_LABEL_ERRORS_HELP)

    def service_kwargs(self, schedule: ExportSchedule) -> dict[str, Any]:
        """The given fields as export_schedule_update takes them; changed export settings complete the
        schedule's current ones into one request."""
        data = dict(self.validated_data)
        export = {key: data.pop(key) for key in EXPORT_FIELDS if key in data}
        if export:
            current = {"policy": schedule.policy, "min_confidence": schedule.min_confidence,
                       "formats": list(schedule.formats), "splits": schedule.filters.get("splits", []),
                       "labels": schedule.filters.get("labels", []), "fewshot_k": list(schedule.fewshot_k),
                       "exclude_label_errors": schedule.exclude_label_errors}  # fmt: skip
            data["request"] = SnapshotRequest(**{**current, **export})
        return data


class ScheduleSnapshotOutputSerializer(serializers.ModelSerializer[Snapshot]):
    class Meta:
        model = Snapshot
        fields = [
            "id", "version", "status", "error", "row_count", "content_hash", "created_at", "finished_at",
        ]  # fmt: skip


class ExportScheduleOutputSerializer(serializers.ModelSerializer[ExportSchedule]):
    created_by = serializers.CharField(source="created_by.username", default=None)
    periodic_task = serializers.CharField(
        source="periodic_task.name", default=None, help_text="Its django-celery-beat entry."
    )
    recent_snapshots = ScheduleSnapshotOutputSerializer(
        many=True, read_only=True, help_text="Its newest runs, newest first."
    )

    class Meta:
        model = ExportSchedule
        fields = [
            "id", "name", "policy", "min_confidence", "formats", "filters", "fewshot_k", "exclude_label_errors",
            "every", "period", "crontab", "keep_last", "enabled", "periodic_task", "created_by", "last_run_at",
            "last_status", "last_error", "recent_snapshots", "created_at", "updated_at",
        ]  # fmt: skip
