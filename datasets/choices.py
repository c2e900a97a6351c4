from django.db import models


class SnapshotStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    SKIPPED = "skipped", "Skipped (nothing changed)"
    FAILED = "failed", "Failed"


class LabelPolicy(models.TextChoices):
    """Which items a snapshot holds, and with which labels.

    Under `inferred`, an item with a gold label (adjudicated or a known answer, in any split) keeps it and its
    source: truth inference held the usable ones fixed, so its posterior there is that same one-hot gold, and
    the test split's gold, which it leaves free so that it can be scored, is still the best label there is.
    Every other item carries the latest succeeded inference run's label, with its posterior as the confidence
    and the posterior per label as the soft label, if that posterior is at least `min_confidence`; annotators
    merely agreeing is evidence the inference weighed, not gold. Items the run has no answer for (added since)
    are left out.
    """

    GOLD = "gold", "Gold labels only"
    GOLD_WEAK = "gold+weak", "Gold labels, then weak labels above a confidence"
    SOFT = "soft", "Everything with a soft label"
    INFERRED = "inferred", "Gold labels, then truth inference's labels above a confidence"


class ExportFormat(models.TextChoices):
    PARQUET = "parquet", "Parquet"
    JSONL = "jsonl", "JSON Lines"
    CSV = "csv", "CSV"
    HF = "hf", "Hugging Face datasets (Parquet per split)"


class LabelSource(models.TextChoices):
    """Where a row's final label comes from."""

    ADJUDICATED = "adjudicated", "Adjudicated by a reviewer"
    GOLD = "gold", "Gold: a known answer, or every annotator agreed"
    MAJORITY = "majority", "Most annotators (they disagree; not yet adjudicated)"
    WEAK = "weak", "The label model (weak supervision)"
    END_MODEL = "end_model", "The end model (weak supervision, items no LF covers)"
    INFERRED = "inferred", "Truth inference (every source weighed by its estimated reliability)"


class Trigger(models.TextChoices):
    UI = "ui", "Browser"
    API = "api", "API"
    CLI = "cli", "Command line"
    SCHEDULE = "schedule", "Schedule"
