from __future__ import annotations

from typing import Any

from rest_framework import serializers

from active_learning.models import LearnerModel, LearnerSettings, Simulation


class LearnerSettingsSerializer(serializers.ModelSerializer[LearnerSettings]):
    """Input (PATCH, every field optional) and output of a project's active-learning settings."""

    class Meta:
        model = LearnerSettings
        fields = [
            "enabled", "strategy", "features", "retrain_every", "batch_size", "use_weak_labels",
            "weak_min_confidence", "show_suggestions",
        ]  # fmt: skip
        extra_kwargs = {
            "retrain_every": {"min_value": 1},
            "batch_size": {"min_value": 1, "max_value": 1000},
            "weak_min_confidence": {"min_value": 0.0, "max_value": 1.0},
        }


class LearnerModelOutputSerializer(serializers.ModelSerializer[LearnerModel]):
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)

    class Meta:
        model = LearnerModel
        fields = [
            "number", "status", "trigger", "created_by", "strategy", "features", "labels", "n_labels", "n_weak",
            "weak_run", "metrics", "pool_size", "prioritized", "window", "seconds", "error", "created_at",
            "finished_at",
        ]  # fmt: skip


class CurvePointSerializer(serializers.Serializer[Any]):
    model = serializers.IntegerField()
    n_labels = serializers.IntegerField()
    n_weak = serializers.IntegerField()
    n_heldout = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    accuracy = serializers.FloatField(allow_null=True)
    macro_f1 = serializers.FloatField(allow_null=True)
    brier = serializers.FloatField(allow_null=True)
    span_f1 = serializers.FloatField(allow_null=True, help_text="Span projects: exact-match micro span F1.")
    span_precision = serializers.FloatField(allow_null=True)
    span_recall = serializers.FloatField(allow_null=True)


class LearningCurveOutputSerializer(serializers.Serializer[Any]):
    metrics = serializers.ListField(child=serializers.CharField())
    points = CurvePointSerializer(many=True)


class SimulationCreateInputSerializer(serializers.Serializer[Any]):
    strategies = serializers.ListField(
        child=serializers.CharField(max_length=32), allow_empty=False,
        help_text="Strategy names; 'default' stands for the project's strategy.",
    )  # fmt: skip
    budget = serializers.IntegerField(min_value=1)
    step = serializers.IntegerField(min_value=1)
    seeds = serializers.IntegerField(min_value=1, max_value=10, default=3)
    metric = serializers.CharField(default="accuracy", help_text="accuracy, macro_f1 or f1:LABEL.")


class SimulationOutputSerializer(serializers.ModelSerializer[Simulation]):
    class Meta:
        model = Simulation
        fields = [
            "id", "status", "strategies", "budget", "step", "seeds", "metric", "result", "error", "created_at",
            "finished_at",
        ]  # fmt: skip
