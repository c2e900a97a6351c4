from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from core.markdown import render_markdown
from core.models import TimeStampedModel
from labeling.choices import (
    AnnotationSource,
    EventType,
    GoldSource,
    ImportFormat,
    ImportStatus,
    OnConflict,
    Role,
    Split,
)


class Project(TimeStampedModel):
    """A labeling project: owns a label schema, items, members and everything derived from them."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    instructions = models.TextField(blank=True, help_text="Markdown, shown to analysts (sanitised).")
    multi_label = models.BooleanField(default=False)
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

    class Meta:
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
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("labeling:project-detail", args=[self.slug])

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

    class Meta:
        ordering = ["project_id", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "key"], name="label_unique_key"),
            models.UniqueConstraint(
                fields=["project", "hotkey"], condition=~Q(hotkey=""), name="label_unique_hotkey"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project.slug}:{self.key}"


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

    class Meta:
        ordering = ["project_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "external_id"], name="item_unique_external_id")
        ]
        indexes = [
            # A project's items in id order: runs cut them into chunks of consecutive ids and read each by
            # its range; pages and exports walk them in this order (the model's ordering).
            models.Index(fields=["project", "id"], name="item_project_id"),
            models.Index(fields=["project", "split"], name="item_project_split"),
            models.Index(fields=["project", "content_hash"], name="item_project_hash"),
            # The queue walks this: open items only, best first, then import order.
            models.Index(
                "project", models.F("priority").desc(), "id", name="item_queue", condition=Q(remaining__gt=0)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id}:{self.external_id}"


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
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status"], name="importjob_status")]

    def __str__(self) -> str:
        return f"import #{self.pk} into {self.project_id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {ImportStatus.SUCCEEDED, ImportStatus.FAILED}


class Annotation(TimeStampedModel):
    """One person's answer for one item. Edits keep the previous answers as AnnotationRevision rows."""

    # Both are indexed through the composite indexes below, which lead with them.
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="annotations", db_index=False)
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="annotations", db_index=False)
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="annotations"
    )
    external_annotator = models.CharField(
        max_length=255, blank=True, help_text="Annotator named in an import."
    )
    labels = models.JSONField(default=list, help_text="Label keys, in schema order.")
    source = models.CharField(max_length=10, choices=AnnotationSource.choices, default=AnnotationSource.HUMAN)
    client_uuid = models.UUIDField(unique=True, help_text="Generated by the client: a retry is stored once.")
    lead_time_ms = models.PositiveIntegerField(null=True, blank=True)
    import_job = models.ForeignKey(ImportJob, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["item_id", "created_at"]
        constraints = [
            # One answer per person per item (NULL annotators, i.e. imported ones, are distinct); it is also
            # the index for an item's annotations.
            models.UniqueConstraint(fields=["item", "annotator"], name="annotation_unique_item_annotator"),
        ]
        indexes = [
            models.Index(fields=["project", "annotator"], name="annotation_project_annotator"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}: {','.join(self.labels)}"


class AnnotationRevision(models.Model):
    """An earlier state of an annotation, kept when it is edited."""

    annotation = models.ForeignKey(Annotation, on_delete=models.CASCADE, related_name="revisions")
    labels = models.JSONField(default=list)
    lead_time_ms = models.PositiveIntegerField(null=True, blank=True)
    edited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["annotation_id", "created_at"]

    def __str__(self) -> str:
        return f"revision of {self.annotation_id} at {self.created_at:%Y-%m-%d %H:%M}"


class InteractionEvent(models.Model):
    """Append-only record of one interaction (view, submit, skip, undo, ...), reusable as supervision."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="events")
    item = models.ForeignKey(Item, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    type = models.CharField(max_length=32, choices=EventType.choices)
    payload = models.JSONField(default=dict, blank=True)
    client_ts = models.DateTimeField(null=True, blank=True)
    server_ts = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["server_ts", "id"]
        indexes = [
            models.Index(fields=["project", "user", "server_ts"], name="event_project_user_ts"),
            models.Index(fields=["item", "server_ts"], name="event_item_ts"),
        ]

    def __str__(self) -> str:
        return f"{self.type} by {self.user_id} on {self.item_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("Interaction events are append-only.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class Assignment(TimeStampedModel):
    """An item handed to an analyst by the queue: reserved (leased) until it expires, then answered or skipped."""

    class Status(models.TextChoices):
        LEASED = "leased", "Leased"
        SUBMITTED = "submitted", "Submitted"
        SKIPPED = "skipped", "Skipped"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="assignments")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="assignments", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.LEASED)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-updated_at"]
        constraints = [models.UniqueConstraint(fields=["item", "user"], name="assignment_unique_item_user")]
        indexes = [
            models.Index(fields=["project", "user", "status"], name="assignment_project_user"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} to {self.user_id} ({self.status})"


class Flag(TimeStampedModel):
    """An analyst's note that an item is a problem (ambiguous, broken, offensive): for review."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="flags")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="flags")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    comment = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["project", "resolved_at"], name="flag_project_open")]

    def __str__(self) -> str:
        return f"flag on {self.item_id} by {self.user_id}"


class Rationale(models.Model):
    """Evidence for an annotation: a span of the item's text, by character offsets (code points)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="rationales")
    annotation = models.ForeignKey(Annotation, on_delete=models.CASCADE, related_name="rationales")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="rationales")
    label = models.CharField(max_length=64, blank=True, help_text="The label key the span supports.")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    quote = models.TextField(help_text="The text between start and end, as the analyst saw it.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["annotation_id", "start"]
        constraints = [models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="rationale_span")]

    def __str__(self) -> str:
        return f"{self.item_id}[{self.start}:{self.end}]"


class GoldLabel(TimeStampedModel):
    """The final answer for an item: adjudicated by a reviewer, or a known answer given by an owner.

    It keeps its provenance: who decided, when, with what note, and the annotations they saw. A gold label
    marked `is_check` makes the item a gold check, mixed silently into analysts' queues.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="gold_labels")
    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="gold")
    labels = models.JSONField(default=list, help_text="Label keys, in schema order.")
    source = models.CharField(max_length=12, choices=GoldSource.choices, default=GoldSource.ADJUDICATED)
    is_check = models.BooleanField(default=False, help_text="Used as a gold check in analysts' queues.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    based_on = models.JSONField(
        default=list, blank=True, help_text="The annotations the decision saw: id, annotator, labels."
    )

    class Meta:
        ordering = ["project_id", "item_id"]
        indexes = [models.Index(fields=["project", "is_check"], name="gold_project_check")]

    def __str__(self) -> str:
        return f"gold {self.item_id}: {','.join(self.labels)}"


class ReviewRequest(TimeStampedModel):
    """An item that needs a reviewer's decision, with every reason it was sent; one open request per item.

    A reviewer claims it (until `claimed_until`) while deciding, so two reviewers never get the same item.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="review_requests")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="review_requests")
    reasons = models.JSONField(default=list, help_text="ReviewReason values, most important first.")
    detail = models.JSONField(default=dict, blank=True, help_text="Per reason: what triggered it.")
    priority = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_until = models.DateTimeField(null=True, blank=True)
    passed_by = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-priority", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["item"], condition=Q(status="open"), name="review_request_one_open_per_item"
            )
        ]
        indexes = [
            models.Index(
                "project", models.F("priority").desc(), "id", name="review_queue", condition=Q(status="open")
            ),
        ]

    def __str__(self) -> str:
        return f"review {self.item_id} ({self.status}: {','.join(self.reasons)})"
