from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from core.api.serializers import Serializer
from weak_supervision.choices import LabelingFunctionKind
from weak_supervision.models import LabelingFunction, LabelingFunctionVersion, LabelModelRun
from weak_supervision.selectors import run_progress

SPEC_HELP = (
    "keyword: keywords, mode (any|all), case_sensitive, whole_words; regex: pattern, case_sensitive; "
    "metadata: field, operator, value; python: code, defining label(item) that returns a label key or None."
)
DECLARATIVE_CHOICES = [(k, v) for k, v in LabelingFunctionKind.choices if k != LabelingFunctionKind.EXTERNAL]


class LabelingFunctionVersionOutputSerializer(serializers.ModelSerializer[LabelingFunctionVersion]):
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)

    class Meta:
        model = LabelingFunctionVersion
        fields = ["number", "label", "spec", "created_by", "created_at"]


class LabelingFunctionOutputSerializer(serializers.ModelSerializer[LabelingFunction]):
    current_version = LabelingFunctionVersionOutputSerializer(read_only=True)

    class Meta:
        model = LabelingFunction
        fields = [
            "id",
            "name",
            "kind",
            "description",
            "active",
            "current_version",
            "created_at",
            "updated_at",
        ]


class LabelingFunctionCreateInputSerializer(Serializer):
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=DECLARATIVE_CHOICES)
    label_ = serializers.CharField(
        max_length=64,
        required=False,
        default="",
        allow_blank=True,
        help_text="Rules: the label they vote for.",
    )
    spec = serializers.DictField(help_text=SPEC_HELP)
    description = serializers.CharField(required=False, default="", allow_blank=True)


class LabelingFunctionUpdateInputSerializer(Serializer):
    label_ = serializers.CharField(max_length=64, required=False)
    spec = serializers.DictField(required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)


class LabelingFunctionPreviewInputSerializer(Serializer):
    kind = serializers.ChoiceField(choices=DECLARATIVE_CHOICES)
    label_ = serializers.CharField(
        max_length=64,
        required=False,
        default="",
        allow_blank=True,
        help_text="Rules: the label they vote for.",
    )
    spec = serializers.DictField()
    exclude_id = serializers.IntegerField(
        required=False, default=None, allow_null=True, help_text="The LF being edited: not among the others."
    )


class RunWarningSerializer(Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class RunOutputSerializer(serializers.ModelSerializer[LabelModelRun]):
    progress = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)
    aggregator = serializers.SerializerMethodField(
        help_text="The aggregator that delivered the weak labels: name, selected_on (valid, cross_validation "
        "or default), metric, scores (each candidate's held-out score), n_heldout, params, skipped."
    )
    warnings = serializers.SerializerMethodField(
        help_text="Guardrails: what a user of these labels should know."
    )

    class Meta:
        model = LabelModelRun
        fields = ["number", "status", "created_by", "item_count", "labels", "lf_versions", "progress", "aggregator",
                  "warnings", "metrics", "lf_analysis", "error", "created_at", "started_at", "finished_at"]  # fmt: skip

    def get_progress(self, run: LabelModelRun) -> dict[str, Any]:
        return run_progress(run=run)

    def get_aggregator(self, run: LabelModelRun) -> dict[str, Any] | None:
        found = (run.metrics or {}).get("aggregator")
        return found if isinstance(found, dict) else None

    @extend_schema_field(RunWarningSerializer(many=True))
    def get_warnings(self, run: LabelModelRun) -> list[dict[str, str]]:
        return list((run.metrics or {}).get("warnings", []))

    def to_representation(self, instance: LabelModelRun) -> dict[str, Any]:
        """LF errors and tracebacks only for those who may edit LFs (context "may_see_errors")."""
        data: dict[str, Any] = super().to_representation(instance)
        if not self.context.get("may_see_errors", False):
            data["error"] = "The run failed; owners and data scientists see why." if data["error"] else ""
            metrics = dict(data.get("metrics") or {})
            metrics.pop("lf_errors", None)
            if isinstance(metrics.get("end_model"), dict):
                metrics["end_model"] = {k: v for k, v in metrics["end_model"].items() if k != "error"}
            data["metrics"] = metrics
        return data


class RunCreateInputSerializer(serializers.Serializer[Any]):
    chunk_size = serializers.IntegerField(required=False, min_value=100, max_value=1_000_000)


# The queue's model suggestion is "SuggestionOutput" too: one name per component in the schema.
@extend_schema_serializer(component_name="LabelingFunctionSuggestionOutput")
class SuggestionOutputSerializer(Serializer):
    phrase = serializers.CharField()
    label_ = serializers.CharField()
    source_ = serializers.ChoiceField(choices=["rationale", "n-gram"])
    support = serializers.IntegerField()
    coverage = serializers.FloatField()
    accuracy = serializers.FloatField(allow_null=True)
    gold_judged = serializers.IntegerField()


class SuggestionAcceptInputSerializer(Serializer):
    phrase = serializers.CharField(max_length=200)
    label_ = serializers.CharField(max_length=64)


class PostedVoteInputSerializer(Serializer):
    external_id = serializers.CharField(max_length=255)
    label_ = serializers.CharField(max_length=64, allow_null=True)


class ExternalVotesInputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=200, help_text="The external LF; created on its first votes.")
    votes = PostedVoteInputSerializer(many=True, allow_empty=False)


class ExternalVotesOutputSerializer(serializers.Serializer[Any]):
    labeling_function = LabelingFunctionOutputSerializer()
    votes = serializers.IntegerField(help_text="Non-abstaining votes now stored for the posted items.")
