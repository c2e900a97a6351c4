from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from core.markdown import render_markdown
from core.models import TimeStampedModel
from projects.choices import (
    ImportFormat,
    ImportStatus,
    LabelChangeAction,
    OnConflict,
    ProjectKind,
    Role,
    Split,
)


class Project(TimeStampedModel):
    """A labeling project: owns a label schema, items, members and everything derived from them."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    instructions = models.TextField(blank=True, help_text="Markdown, shown to analysts (sanitised).")
    kind = models.CharField(
        max_length=8, choices=ProjectKind.choices, default=ProjectKind.SINGLE, db_default=ProjectKind.SINGLE
    )
    # Kept beside `kind` for the many readers that ask only this (a constraint holds the two together).
    multi_label = models.BooleanField(default=False)
    allow_overlapping_spans = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Span projects: an answer may hold nested or overlapping spans.",
    )
    overlap = models.PositiveSmallIntegerField(default=1, help_text="Annotations wanted per item.")
    lease_seconds = models.PositiveIntegerField(
        default=600, help_text="How long an item handed to an analyst stays reserved for them."
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # Oversight of the humans.
    gold_check_rate = models.FloatField(
        default=0.0,
        help_text="Share of hand-outs that are gold checks (items with a known answer), 0 to 0.5.",
    )
    gold_accuracy_threshold = models.FloatField(
        default=0.8, help_text="An analyst whose accuracy on gold checks falls below this is flagged."
    )
    gold_min_checks = models.PositiveSmallIntegerField(
        default=10, help_text="Gold checks an analyst must have answered before they can be flagged."
    )
    gold_auto_review = models.BooleanField(
        default=False, help_text="Send every label of a flagged analyst to review, automatically."
    )
    review_audit_rate = models.FloatField(
        default=0.05, help_text="Share of submitted items drawn into the review queue as a random audit."
    )
    review_confidence_threshold = models.FloatField(
        default=0.6, help_text="Items whose label-model confidence is below this go to review."
    )
    # Blind labeling: analysts never see others' answers or the label and end models'; the active-learning
    # model's suggestion is the project's choice (shown where active learning shows suggestions).
    analysts_see_suggestions = models.BooleanField(
        default=True,
        help_text="Analysts see the active-learning model's suggestion while labeling, where active learning "
        "shows suggestions. Off: analysts label blind to every model.",
    )
    # Text search (PostgreSQL): every item with an id up to this one has its ItemSearchText row, which a
    # trigram index serves; items above it are searched by a scan of their own texts (projects.services.search).
    search_indexed_through = models.BigIntegerField(default=0, db_default=0)

    class Meta:
        db_table = "labeling_project"  # kept from the app it lived in before (no table moves)
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(overlap__gte=1), name="project_overlap_gte_1"),
            models.CheckConstraint(condition=Q(lease_seconds__gte=10), name="project_lease_gte_10s"),
            models.CheckConstraint(
                condition=Q(gold_check_rate__gte=0) & Q(gold_check_rate__lte=0.5), name="project_gold_rate"
            ),
            models.CheckConstraint(
                condition=Q(review_audit_rate__gte=0) & Q(review_audit_rate__lte=1), name="project_audit_rate"
            ),
            models.CheckConstraint(
                condition=Q(kind=ProjectKind.MULTI, multi_label=True)
                | (~Q(kind=ProjectKind.MULTI) & Q(multi_label=False)),
                name="project_kind_multi_label",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("labeling:project-detail", args=[self.slug])

    @property
    def is_spans(self) -> bool:
        return self.kind == ProjectKind.SPANS

    @property
    def instructions_html(self) -> str:
        return render_markdown(self.instructions)


class Label(models.Model):
    """One class of a project's label schema, in display order."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="labels")
    key = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    hotkey = models.CharField(max_length=1, blank=True)
    color = models.CharField(max_length=7, default="#6b7280")
    order = models.PositiveSmallIntegerField(default=0)
    retired_at = models.DateTimeField(
        null=True, blank=True, help_text="Retired labels keep their answers but are offered to no one."
    )

    class Meta:
        db_table = "labeling_label"  # kept from the app it lived in before (no table moves)
        ordering = ["project_id", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "key"], name="label_unique_key"),
            models.UniqueConstraint(
                fields=["project", "hotkey"], condition=~Q(hotkey=""), name="label_unique_hotkey"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project.slug}:{self.key}"


class LabelChange(models.Model):
    """One change to a project's label schema, with who made it and when: the schema's history."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="label_changes")
    action = models.CharField(max_length=10, choices=LabelChangeAction.choices)
    key = models.CharField(max_length=64, help_text="The label changed (merges: the one merged away).")
    into = models.CharField(max_length=64, blank=True, help_text="Merges: the label it was merged into.")
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    counts = models.JSONField(default=dict, blank=True, help_text="Merges: rows migrated, per kind.")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["project_id", "created_at", "id"]
        indexes = [models.Index(fields=["project", "created_at"], name="label_change_project_time")]

    def __str__(self) -> str:
        return f"{self.project_id}: {self.action} {self.key}"


class Membership(TimeStampedModel):
    """A user's role in a project."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.ANALYST)
    review_all_labels = models.BooleanField(
        default=False,
        help_text="Every label this member gives goes to the review queue (set by an owner, or "
        "automatically when their gold-check accuracy falls below the project's threshold).",
    )

    class Meta:
        db_table = "labeling_membership"  # kept from the app it lived in before (no table moves)
        ordering = ["project_id", "user__username"]
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} as {self.role}"


class Item(models.Model):
    """One thing to label: a row of imported data."""

    # Indexed through item_unique_external_id, which leads with project: no second index to maintain.
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="items", db_index=False)
    external_id = models.CharField(max_length=255)
    text = models.TextField()
    metadata = models.JSONField(default=dict, blank=True)
    content_hash = models.CharField(max_length=64, help_text="sha256 of the text")
    split = models.CharField(max_length=8, choices=Split.choices, blank=True, default=Split.NONE)
    priority = models.FloatField(default=0.0, help_text="Higher comes first in the queue (active learning).")
    remaining = models.IntegerField(
        default=1, help_text="Annotations still wanted: the project's overlap minus the annotations so far."
    )
    created_at = models.DateTimeField(default=timezone.now)
    # The active-learning model's answer, written when a retrain ranks the queue (for the items it puts first)
    # and shown beside the item where the project shows suggestions: read with the item, never computed on
    # the labeling hot path. Empty when there is none.
    suggested_label = models.CharField(max_length=64, blank=True, default="", db_default="")
    suggested_confidence = models.FloatField(null=True, blank=True)
    suggested_by = models.PositiveIntegerField(null=True, blank=True, help_text="The model number.")
    # Span projects. The tokens the import gave ([[start, end], ...] in code points of `text`; null: the
    # platform's tokenizer, core.spans.tokenize), and the active-learning model's suggested spans.
    token_offsets = models.JSONField(null=True, blank=True)
    suggested_spans = models.JSONField(default=list, blank=True, db_default=[])

    class Meta:
        db_table = "labeling_item"  # kept from the app it lived in before (no table moves)
        ordering = ["project_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "external_id"], name="item_unique_external_id")
        ]
        indexes = [
            # A project's items in id order: runs cut them into chunks of consecutive ids and read each by
            # its range; pages and exports walk them in this order (the model's ordering).
            models.Index(fields=["project", "id"], name="item_project_id"),
            models.Index(fields=["project", "split"], name="item_project_split"),
            # The queue walks this: open items only, best first, then import order.
            models.Index(
                "project", models.F("priority").desc(), "id", name="item_queue", condition=Q(remaining__gt=0)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id}:{self.external_id}"


class ItemSearchText(models.Model):
    """An item's text for the item browser's text search, in a table of its own so that imports never pay for
    its trigram index (`item_search_text_trgm` on UPPER(text), PostgreSQL only: migration 0006): rows are
    written after an import commits, by `projects.services.search.item_search_refresh`. Item texts never
    change; a deleted item takes its row with it."""

    item = models.OneToOneField(Item, on_delete=models.CASCADE, primary_key=True, related_name="search_text")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, db_index=False, related_name="+")
    text = models.TextField()

    def __str__(self) -> str:
        return f"search text of {self.item_id}"


class ImportJob(TimeStampedModel):
    """One import of a file into a project, with its field mapping, outcome and counts."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.PENDING)
    format = models.CharField(max_length=10, choices=ImportFormat.choices)
    original_name = models.CharField(max_length=255, blank=True)
    file = models.FileField(upload_to="imports/%Y/%m/", blank=True)
    source_path = models.CharField(max_length=1024, blank=True, help_text="A local path (CLI imports).")
    options = models.JSONField(default=dict, blank=True)
    on_conflict = models.CharField(max_length=10, choices=OnConflict.choices, default=OnConflict.SKIP)
    rows_total = models.PositiveIntegerField(default=0)
    items_created = models.PositiveIntegerField(default=0)
    items_updated = models.PositiveIntegerField(default=0)
    items_skipped = models.PositiveIntegerField(default=0)
    annotations_imported = models.PositiveIntegerField(default=0, help_text="Created or updated.")
    votes_imported = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    error_line = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Runs started (a retry is one more).")
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="When the running attempt began; its live heartbeat is in the cache."
    )

    class Meta:
        db_table = "labeling_importjob"  # kept from the app it lived in before (no table moves)
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status"], name="importjob_status")]

    def __str__(self) -> str:
        return f"import #{self.pk} into {self.project_id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {ImportStatus.SUCCEEDED, ImportStatus.FAILED}
