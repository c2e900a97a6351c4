from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from active_learning.choices import DEFAULT_STRATEGY, ModelStatus, SimulationStatus, Strategy, Trigger
from core.models import TimeStampedModel
from features.choices import DEFAULT_FEATURES, FeatureKind
from projects.models import Project


class LearnerSettings(TimeStampedModel):
    """A project's active-learning choices: features, strategy, when to retrain, what to train on, and
    whether analysts see the model's suggestion."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="learner_settings")
    enabled = models.BooleanField(
        default=True, help_text="Retrain after new annotations and drive the queue."
    )
    strategy = models.CharField(max_length=24, choices=Strategy.choices, default=DEFAULT_STRATEGY)
    features = models.CharField(max_length=16, choices=FeatureKind.choices, default=DEFAULT_FEATURES)
    retrain_every = models.PositiveIntegerField(
        default=50, help_text="Retrain after this many new annotations."
    )
    batch_size = models.PositiveIntegerField(default=50, help_text="Items ranked first after each retrain.")
    use_weak_labels = models.BooleanField(
        default=False, help_text="Also train on the label model's answers, weighted by their confidence."
    )
    weak_min_confidence = models.FloatField(default=0.7)
    show_suggestions = models.BooleanField(
        default=False, help_text="Show analysts the model's predicted label (off by default)."
    )

    def __str__(self) -> str:
        return f"learner settings of {self.project_id}"


class LearnerModel(TimeStampedModel):
    """One trained version of a project's classifier, with its held-out metrics and how it ranked the pool.

    The fitted estimator lives in a file; its metrics against the number of human labels make the
    project's learning curve."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="learner_models")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=ModelStatus.choices, default=ModelStatus.PENDING)
    trigger = models.CharField(max_length=12, choices=Trigger.choices, default=Trigger.MANUAL)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    strategy = models.CharField(max_length=24, choices=Strategy.choices)
    features = models.CharField(
        max_length=32,
        help_text="The feature set the classifier read: the project's setting, or a set its items call for, "
        "chosen at training on the labels (active_learning.feature_sets).",
    )
    annotation_watermark = models.BigIntegerField(
        default=0,
        help_text="The highest annotation id when training started (new ones count towards the next).",
    )
    labels = models.JSONField(default=list, help_text="The classes, in schema order.")
    n_labels = models.PositiveIntegerField(default=0, help_text="Human (gold) labels trained on.")
    n_weak = models.PositiveIntegerField(default=0, help_text="Weak labels trained on.")
    weak_run = models.PositiveIntegerField(
        null=True, blank=True, help_text="The LF run the weak labels came from."
    )
    metrics = models.JSONField(default=dict, blank=True, help_text="On held-out gold items.")
    evidence = models.JSONField(
        default=dict, blank=True,
        help_text="The adaptive strategy's audit evidence: the share of the batch chosen, z, items weighed.",
    )  # fmt: skip
    chunks = models.JSONField(default=list, help_text="Feature blocks scored, one chunk each.")
    path = models.CharField(max_length=500, blank=True, help_text="The fitted model (storage).")
    pool_size = models.PositiveIntegerField(default=0)
    prioritized = models.PositiveIntegerField(default=0, help_text="Items given a queue priority.")
    window = models.PositiveIntegerField(
        default=0,
        help_text="How many open items this model ranked to the queue's front, planned when it finished: "
        "enough for the answers the project's own rate leads one to expect before the next model's ranking "
        "lands (active_learning.services.training.window_planned; 0: not planned, the settings' window).",
    )
    seconds = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["project_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="learner_model_unique_number"),
            # One training at a time per project: a second trigger finds this row and leaves.
            models.UniqueConstraint(
                fields=["project"],
                condition=Q(status__in=["pending", "training", "scoring"]),
                name="learner_model_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"model {self.number} of {self.project_id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {ModelStatus.SUCCEEDED, ModelStatus.FAILED}


class ScoreChunk(models.Model):
    """A scored feature block of a model's pool: the block's best candidates, in a file. Once per chunk."""

    model = models.ForeignKey(LearnerModel, on_delete=models.CASCADE, related_name="done_chunks")
    index = models.PositiveIntegerField()
    path = models.CharField(max_length=500)
    rows = models.PositiveIntegerField()
    seconds = models.FloatField(default=0.0)

    class Meta:
        ordering = ["model_id", "index"]
        constraints = [models.UniqueConstraint(fields=["model", "index"], name="score_chunk_unique")]

    def __str__(self) -> str:
        return f"chunk {self.index} of model {self.model_id}"


class Simulation(TimeStampedModel):
    """A replay of the active-learning loop with the project's gold labels as the oracle, comparing
    strategies before analyst hours are spent."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="al_simulations")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    status = models.CharField(
        max_length=10, choices=SimulationStatus.choices, default=SimulationStatus.PENDING
    )
    strategies = models.JSONField(default=list)
    budget = models.PositiveIntegerField()
    step = models.PositiveIntegerField()
    seeds = models.PositiveSmallIntegerField(default=3)
    metric = models.CharField(max_length=80, default="accuracy")
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["project_id", "-created_at"]

    def __str__(self) -> str:
        return f"simulation {self.pk} of {self.project_id}"
