from django.db import models


class SnapshotStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    SKIPPED = "skipped", "Skipped (nothing changed)"
    FAILED = "failed", "Failed"


class LabelPolicy(models.TextChoices):
    """Which items a snapshot holds, and with which labels."""

    GOLD = "gold", "Gold labels only"
    GOLD_WEAK = "gold+weak", "Gold labels, then weak labels above a confidence"
    SOFT = "soft", "Everything with a soft label"


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


class Trigger(models.TextChoices):
    UI = "ui", "Browser"
    API = "api", "API"
    CLI = "cli", "Command line"
    SCHEDULE = "schedule", "Schedule"
