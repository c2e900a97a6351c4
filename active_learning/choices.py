from django.db import models


class Strategy(models.TextChoices):
    """How the pool is ranked for the next labels. Every strategy but random starts from diverse sampling
    while the project has too few labels (or a single class) to train on."""

    ADAPTIVE = "adaptive", "Adaptive: margin in diverse batches, audited by a random share (default)"
    UNCERTAINTY_DIVERSE = "uncertainty_diverse", "Uncertainty, in diverse batches"
    UNCERTAINTY = "uncertainty", "Uncertainty (least confident)"
    MARGIN = "margin", "Margin"
    MARGIN_DIVERSE = "margin_diverse", "Margin, in diverse batches"
    ENTROPY = "entropy", "Entropy"
    COMMITTEE = "committee", "Query by committee (vote entropy)"
    WEAK = "weak", "Weak supervision: LF conflict and label-model doubt"
    DIVERSE = "diverse", "Diverse sampling (cluster centres)"
    RANDOM = "random", "Random (baseline)"


# Adaptive (active_learning.audit): every batch holds a random audit share, and the audit items decide, as
# labels arrive, whether the chosen items are worth more than random ones; see bench/README.md for figures.
DEFAULT_STRATEGY = Strategy.ADAPTIVE


class ModelStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    TRAINING = "training", "Training"
    SCORING = "scoring", "Scoring the pool"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Trigger(models.TextChoices):
    ANNOTATIONS = "annotations", "New annotations"
    MANUAL = "manual", "On demand"


class SimulationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
