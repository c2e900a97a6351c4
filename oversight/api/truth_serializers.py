"""Truth inference over REST: runs, each source's estimated reliability, and the items' posteriors."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.serializers import Serializer
from oversight.choices import SourceKind
from oversight.models import InferenceRun, ItemInferredLabel


def interval_field(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.FloatField(), min_length=2, max_length=2, allow_null=True, **kwargs
    )


class ClassEstimateOutputSerializer(Serializer):
    """A source's estimated accuracy on the items of one true class (multi-label: on one label)."""

    label_ = serializers.CharField()
    accuracy = serializers.FloatField(allow_null=True)
    interval = interval_field(help_text="95% interval.")
    items = serializers.FloatField(help_text="The (expected) items of this class it answered.")


class ConfusionOutputSerializer(Serializer):
    label_ = serializers.CharField(
        allow_null=True,
        help_text="Null for single-label projects; multi-label: the label of this binary matrix.",
    )
    classes = serializers.ListField(
        child=serializers.CharField(), help_text="Label keys, or absent and present (multi-label)."
    )
    rows = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField()),
        help_text="Per true class (in the order of `classes`), the probability of each answer.",
    )


class SourceEstimateOutputSerializer(Serializer):
    """One source's estimated reliability in a run."""

    key = serializers.CharField()
    kind = serializers.ChoiceField(choices=SourceKind.choices)
    name = serializers.CharField()
    user_id = serializers.IntegerField(allow_null=True)
    lf_id = serializers.IntegerField(allow_null=True)
    answered = serializers.IntegerField()
    accuracy = serializers.FloatField(allow_null=True)
    interval = interval_field(help_text="95% interval.")
    per_class = ClassEstimateOutputSerializer(many=True)
    confusions = ConfusionOutputSerializer(many=True)
    one_coin = serializers.BooleanField(help_text="Estimated as one accuracy for every class.")


class InferenceRunOutputSerializer(serializers.ModelSerializer[InferenceRun]):
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)

    class Meta:
        model = InferenceRun
        fields = [
            "number", "status", "trigger", "created_by", "engine", "engine_version", "variant", "labels",
            "multi_label", "selection", "metrics", "error", "created_at", "started_at", "finished_at",
        ]  # fmt: skip


class InferenceRunDetailOutputSerializer(InferenceRunOutputSerializer):
    sources = SourceEstimateOutputSerializer(many=True, read_only=True)

    class Meta(InferenceRunOutputSerializer.Meta):
        fields = [*InferenceRunOutputSerializer.Meta.fields, "sources"]


class ItemInferredLabelOutputSerializer(serializers.ModelSerializer[ItemInferredLabel]):
    """An item's posterior; `probabilities` by label key (context `labels`: the run's classes, in order)."""

    external_id = serializers.CharField(source="item.external_id", read_only=True)
    probabilities = serializers.SerializerMethodField()
    disagrees = serializers.SerializerMethodField()

    class Meta:
        model = ItemInferredLabel
        fields = ["item", "external_id", "label", "confidence", "probabilities", "majority", "disagrees"]

    @extend_schema_field(serializers.DictField(child=serializers.FloatField()))
    def get_probabilities(self, row: ItemInferredLabel) -> dict[str, float]:
        labels: tuple[str, ...] = self.context.get("labels", ())
        return dict(zip(labels, row.probabilities, strict=False))

    @extend_schema_field(serializers.BooleanField())
    def get_disagrees(self, row: ItemInferredLabel) -> bool:
        return bool(row.majority) and row.label != row.majority
