from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.models import TimeStampedModel
from oversight.choices import JobStatus, JobTrigger
from projects.models import Item, Project


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
    passed_by = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", db_table="labeling_reviewrequest_passed_by"
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "labeling_reviewrequest"  # kept from the app it lived in before (no table moves)
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


class InferenceRun(TimeStampedModel):
    """One fit of the truth-inference model (oversight.truth) over every source that answered the project's
    items: annotators, labeling functions, external predictions, the end model and the active learner.

    `sources` holds each source's estimated reliability (accuracy with its interval, per class, the confusion
    matrix); the items' posteriors are ItemInferredLabel rows, replaced as a whole when a run succeeds.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="inference_runs")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING)
    trigger = models.CharField(max_length=10, choices=JobTrigger.choices, default=JobTrigger.UI)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    engine = models.CharField(max_length=40, default="dawid_skene")
    engine_version = models.CharField(max_length=20, default="")
    variant = models.CharField(max_length=20, blank=True, help_text="dawid_skene, one_coin or majority_vote.")
    labels = models.JSONField(default=list, help_text="The classes, in schema order.")
    multi_label = models.BooleanField(default=False)
    selection = models.JSONField(default=dict, blank=True, help_text="How the variant was chosen.")
    sources = models.JSONField(default=list, blank=True, help_text="Each source's estimated reliability.")
    metrics = models.JSONField(default=dict, blank=True)
    answer_watermark = models.BigIntegerField(default=0, help_text="The newest annotation id it saw.")
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["project_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="inference_run_project_number"),
        ]

    def __str__(self) -> str:
        return f"inference {self.project_id}#{self.number} ({self.status})"


class ItemInferredLabel(models.Model):
    """The latest succeeded inference run's answer for one item: its posterior per class (the soft label), the
    top label and its probability, and the annotators' majority it was compared with."""

    item = models.OneToOneField(
        Item, on_delete=models.CASCADE, primary_key=True, related_name="inferred_label"
    )
    # Indexed through the indexes below, which lead with it.
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", db_index=False)
    run = models.ForeignKey(InferenceRun, on_delete=models.CASCADE, related_name="+", db_index=False)
    label = models.CharField(
        max_length=500, blank=True, help_text="Label keys, comma-separated (multi-label)."
    )
    confidence = models.FloatField(
        help_text="The posterior of the label (multi-label: the least sure label's)."
    )
    probabilities = models.JSONField(default=list, help_text="Per class (multi-label: per label present).")
    majority = models.CharField(
        max_length=500, blank=True, help_text="The annotators' majority; blank with no answer or a tie."
    )

    class Meta:
        indexes = [
            models.Index(fields=["project", "label"], name="inferred_label_project_label"),
            models.Index(fields=["project", "confidence", "item"], name="inferred_label_confidence"),
        ]

    def __str__(self) -> str:
        return f"inferred {self.item_id}: {self.label or '-'} ({self.confidence:.2f})"


class LabelErrorScan(TimeStampedModel):
    """One search for human or gold labels that are probably wrong: out-of-fold probabilities of a classifier
    cross-validated on the labeled items, checked by cleanlab's confident learning (oversight.label_errors).
    Its findings are ItemLabelIssue rows; the latest succeeded scan's are the project's suspects."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="label_error_scans")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING)
    trigger = models.CharField(max_length=10, choices=JobTrigger.choices, default=JobTrigger.UI)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    labels = models.JSONField(default=list, help_text="The classes, in schema order.")
    features = models.CharField(max_length=40, blank=True)
    n_labeled = models.PositiveIntegerField(default=0)
    n_flagged = models.PositiveIntegerField(default=0)
    metrics = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["project_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="label_error_scan_project_number"),
        ]

    def __str__(self) -> str:
        return f"label errors {self.project_id}#{self.number} ({self.status})"


class ItemLabelIssue(models.Model):
    """An item whose given label (gold or the annotators' majority) a scan found probably wrong, ranked."""

    scan = models.ForeignKey(LabelErrorScan, on_delete=models.CASCADE, related_name="issues")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", db_index=False)
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="label_issues")
    rank = models.PositiveIntegerField(help_text="1 is the most likely error.")
    given_label = models.CharField(max_length=64)
    given_from = models.CharField(max_length=12, help_text="gold or majority.")
    given_probability = models.FloatField(help_text="The model's out-of-fold probability of the given label.")
    predicted_label = models.CharField(max_length=64)
    predicted_probability = models.FloatField()

    class Meta:
        ordering = ["scan_id", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["scan", "item"], name="item_label_issue_scan_item"),
        ]
        indexes = [models.Index(fields=["project", "scan", "rank"], name="label_issue_project_rank")]

    def __str__(self) -> str:
        return f"label issue {self.item_id}: {self.given_label} -> {self.predicted_label}"
