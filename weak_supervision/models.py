from __future__ import annotations

from django.conf import settings
from django.db import models

from core.models import TimeStampedModel
from projects.models import Item, Label, Project
from weak_supervision.choices import LabelingFunctionKind, RunStatus


class LabelingFunction(TimeStampedModel):
    """A source of votes on items. Declarative LFs are defined by immutable versions; external LFs carry
    votes computed outside Oversight (e.g. WRENCH)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="labeling_functions")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=LabelingFunctionKind.choices)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    current_version = models.ForeignKey(
        "LabelingFunctionVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["project_id", "name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="lf_unique_name")]

    def __str__(self) -> str:
        return f"{self.project_id}:{self.name}"


class LabelingFunctionVersion(models.Model):
    """One saved definition of a labeling function. Never changed: an edit saves a new version."""

    labeling_function = models.ForeignKey(LabelingFunction, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    label = models.CharField(
        max_length=64,
        blank=True,
        help_text="The label key a rule votes for when it fires (Python LFs: blank).",
    )
    spec = models.JSONField(default=dict, help_text="The kind's parameters (keywords, pattern, condition).")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["labeling_function_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["labeling_function", "number"], name="lf_version_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.labeling_function_id} v{self.number}"


class ExternalVote(models.Model):
    """A non-abstaining vote of an external LF on one item (abstentions are not stored)."""

    labeling_function = models.ForeignKey(LabelingFunction, on_delete=models.CASCADE, related_name="votes")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="external_votes")
    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["labeling_function", "item"], name="external_vote_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.labeling_function_id} votes {self.label_id} on {self.item_id}"


class ExternalSpanVote(models.Model):
    """The spans an external LF marked in one item's text (span projects; an LF that marked nothing in an
    item has no row). Spans as core.spans gives them: {"start", "end", "label", "text"}."""

    labeling_function = models.ForeignKey(
        LabelingFunction, on_delete=models.CASCADE, related_name="span_votes"
    )
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="external_span_votes")
    spans = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["labeling_function", "item"], name="external_span_vote_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.labeling_function_id} marks {len(self.spans)} spans in {self.item_id}"


class LabelModelRun(TimeStampedModel):
    """One application of a fixed set of LF versions to every item, then a label model fitted on the votes.

    The label matrix lives in files (one sparse chunk per slice of items), and so do the resulting
    probabilistic labels (one file per run, read through weak_supervision.selectors.weak_labels_get):
    a million items make a few MB there instead of a million database rows per run.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="label_model_runs")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    lf_versions = models.JSONField(
        default=list, help_text="The matrix's columns, in order: {lf, name, kind, version} per LF."
    )
    labels = models.JSONField(
        default=list, help_text="The label keys, in schema order (the matrix's values)."
    )
    chunks = models.JSONField(default=list, help_text="[first item id, last item id] of each chunk.")
    item_count = models.PositiveIntegerField(default=0)
    probabilities_path = models.CharField(
        max_length=500, blank=True, help_text="File (storage) with every item's label probabilities."
    )
    metrics = models.JSONField(default=dict, blank=True)
    lf_analysis = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["project_id", "-number"]
        constraints = [models.UniqueConstraint(fields=["project", "number"], name="run_unique_number")]

    def __str__(self) -> str:
        return f"run {self.number} of {self.project_id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {RunStatus.SUCCEEDED, RunStatus.FAILED}


class RunChunk(models.Model):
    """A chunk of a run that a worker has finished: its votes are in `path`. Recorded once per chunk."""

    run = models.ForeignKey(LabelModelRun, on_delete=models.CASCADE, related_name="done_chunks")
    index = models.PositiveIntegerField()
    path = models.CharField(max_length=500)
    rows = models.PositiveIntegerField()
    seconds = models.FloatField(default=0.0)
    errors = models.JSONField(
        default=dict,
        blank=True,
        help_text="Per LF id that failed on this chunk: its error and first failing item.",
    )
    analysis = models.JSONField(
        default=dict,
        blank=True,
        help_text="Snorkel's LFAnalysis of this chunk as row counts (covered, overlaps, conflicts per LF) and "
        "each LF's polarity: the run's analysis is their sum.",
    )
    finished_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run_id", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="run_chunk_unique")]

    def __str__(self) -> str:
        return f"chunk {self.index} of run {self.run_id}"


class ItemWeakLabel(models.Model):
    """The latest succeeded run's answer for one item, as a row the item browser filters and sorts on.

    The run's probabilities file stays the record (weak_labels_get reads it); these rows repeat the top label
    and its confidence so that a million items filter in SQL. A finished run replaces its project's rows
    (weak_supervision.services.outputs).
    """

    item = models.OneToOneField(Item, on_delete=models.CASCADE, primary_key=True, related_name="weak_label")
    # Indexed through the indexes below, which lead with it.
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", db_index=False)
    run = models.ForeignKey(LabelModelRun, on_delete=models.CASCADE, related_name="+", db_index=False)
    label = models.CharField(max_length=64, blank=True, help_text="The top label; blank where no LF voted.")
    spans = models.JSONField(
        default=list, blank=True, db_default=[], help_text="Span projects: the weak spans (core.spans)."
    )
    confidence = models.FloatField(
        default=0.0, help_text="The top label's probability (0 where no LF voted)."
    )

    class Meta:
        indexes = [
            models.Index(fields=["project", "label"], name="weak_label_project_label"),
            # Confidence ranges and the sort by confidence (ties in id order).
            models.Index(fields=["project", "confidence", "item"], name="weak_label_project_confidence"),
        ]

    def __str__(self) -> str:
        return f"weak {self.item_id}: {self.label or '-'} ({self.confidence:.2f})"


class ItemEndModelLabel(models.Model):
    """The end model's label for one item, from the latest succeeded run whose end model finished: a row the
    item browser filters on (the end model's file stays the record)."""

    item = models.OneToOneField(
        Item, on_delete=models.CASCADE, primary_key=True, related_name="end_model_label"
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", db_index=False)
    run = models.ForeignKey(LabelModelRun, on_delete=models.CASCADE, related_name="+", db_index=False)
    label = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["project", "label"], name="end_model_label_project_label")]

    def __str__(self) -> str:
        return f"end model {self.item_id}: {self.label}"


class ItemLfVote(models.Model):
    """A non-abstaining vote of an LF on one item in the latest succeeded run (abstentions are not stored):
    what the item browser's LF-vote filter reads. The run's chunk files stay the record."""

    # Indexed through item_lf_vote_unique, which leads with it (and serves the cascade of an item's delete).
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+", db_index=False)
    labeling_function = models.ForeignKey(
        LabelingFunction, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    label = models.CharField(max_length=64)

    class Meta:
        constraints = [
            # In a multi-label project an LF may vote for several labels of one item (a column per label).
            models.UniqueConstraint(
                fields=["item", "labeling_function", "label"], name="item_lf_vote_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["labeling_function", "label", "item"], name="item_lf_vote_lf_label"),
        ]

    def __str__(self) -> str:
        return f"{self.labeling_function_id} votes {self.label} on {self.item_id}"
