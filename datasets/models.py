from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.models import TimeStampedModel
from datasets.choices import LabelPolicy, SnapshotStatus, Trigger
from projects.models import Project


class ExportSchedule(TimeStampedModel):
    """A project's periodic export: how often (a django-celery-beat interval or crontab), what, and how many
    snapshots it keeps. Its beat entry calls the schedule's task, which makes a snapshot unless nothing changed."""

    class Every(models.TextChoices):
        HOURS = "hours", "hours"
        DAYS = "days", "days"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="export_schedules")
    name = models.CharField(max_length=200)
    policy = models.CharField(max_length=10, choices=LabelPolicy.choices, default=LabelPolicy.GOLD)
    min_confidence = models.FloatField(default=0.8)
    formats = models.JSONField(default=list)
    filters = models.JSONField(default=dict, blank=True, help_text="splits and labels to keep (empty: all).")
    fewshot_k = models.JSONField(default=list, blank=True, help_text="Support-set sizes per class.")
    exclude_label_errors = models.BooleanField(
        default=False, help_text="Leave out the items the latest label-error scan flags."
    )
    every = models.PositiveIntegerField(null=True, blank=True, help_text="Run every N hours or days...")
    period = models.CharField(max_length=5, choices=Every.choices, default=Every.DAYS, blank=True)
    crontab = models.CharField(
        max_length=100,
        blank=True,
        help_text="...or on a cron schedule: 'minute hour day month weekday' (UTC).",
    )
    keep_last = models.PositiveSmallIntegerField(default=10, help_text="Scheduled snapshots kept (older go).")
    enabled = models.BooleanField(default=True)
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_status = models.CharField(max_length=10, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["project_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="export_schedule_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.project_id}:{self.name}"


class Snapshot(TimeStampedModel):
    """An immutable, numbered version of a project's labeled data, with its files and manifest.

    A snapshot gets its number (v1, v2, ...) only when every file is written and checksummed; until then, and
    when it fails or is skipped (a scheduled export whose content did not change), it has none and no files.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="snapshots")
    version = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=SnapshotStatus.choices, default=SnapshotStatus.PENDING)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.UI)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    schedule = models.ForeignKey(
        ExportSchedule, null=True, blank=True, on_delete=models.SET_NULL, related_name="snapshots"
    )
    policy = models.CharField(max_length=10, choices=LabelPolicy.choices, default=LabelPolicy.GOLD)
    min_confidence = models.FloatField(
        default=0.8, help_text="gold+weak and inferred: weak or inferred labels at least this sure."
    )
    formats = models.JSONField(default=list)
    filters = models.JSONField(default=dict, blank=True, help_text="splits and labels to keep (empty: all).")
    fewshot_k = models.JSONField(
        default=list, blank=True, help_text="Support-set sizes per class, e.g. [8, 16]."
    )
    exclude_label_errors = models.BooleanField(
        default=False, help_text="Leave out the items the latest label-error scan flags."
    )
    run = models.ForeignKey(
        "weak_supervision.LabelModelRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    content_hash = models.CharField(max_length=64, blank=True)
    row_count = models.PositiveIntegerField(default=0)
    manifest = models.JSONField(default=dict, blank=True)
    storage_prefix = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["project_id", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "version"],
                condition=Q(version__isnull=False),
                name="snapshot_unique_version",
            )
        ]

    def __str__(self) -> str:
        return f"{self.project_id}:v{self.version}" if self.version else f"{self.project_id}:#{self.pk}"

    @property
    def label(self) -> str:
        return f"v{self.version}" if self.version else f"#{self.pk}"
