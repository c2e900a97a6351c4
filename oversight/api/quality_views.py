"""Annotator quality over REST: the annotator table as JSON (with truth inference's estimates), and as a CSV
download for those who oversee."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from oversight.api.truth_serializers import ClassEstimateOutputSerializer, ConfusionOutputSerializer
from oversight.selectors.quality import annotator_quality_csv_lines, annotator_quality_list
from projects.permissions import Action
from projects.web import ProjectScopedMixin

ANNOTATOR_QUALITY_OUTPUT = inline_serializer(
    name="AnnotatorQualityOutput",
    many=True,
    fields={
        "user_id": serializers.IntegerField(),
        "username": serializers.CharField(),
        "role": serializers.CharField(),
        "submitted": serializers.IntegerField(),
        "items_per_hour": serializers.FloatField(allow_null=True),
        "median_seconds": serializers.FloatField(allow_null=True),
        "skip_rate": serializers.FloatField(allow_null=True),
        "hotkey_share": serializers.FloatField(allow_null=True),
        "consensus_n": serializers.IntegerField(),
        "consensus_agreement": serializers.FloatField(allow_null=True),
        "gold_n": serializers.IntegerField(),
        "gold_agreement": serializers.FloatField(allow_null=True),
        "checks_n": serializers.IntegerField(),
        "checks_correct": serializers.IntegerField(),
        "check_accuracy": serializers.FloatField(allow_null=True),
        "check_ci_low": serializers.FloatField(allow_null=True),
        "check_ci_high": serializers.FloatField(allow_null=True),
        "below_threshold": serializers.BooleanField(),
        "fast_answers": serializers.IntegerField(),
        "fast_share": serializers.FloatField(allow_null=True),
        "drift_speed": serializers.FloatField(allow_null=True),
        "drift_consensus": serializers.FloatField(allow_null=True),
        "review_all_labels": serializers.BooleanField(),
        "inference_run": serializers.IntegerField(
            allow_null=True, help_text="The truth-inference run the estimates come from."
        ),
        "estimated_accuracy": serializers.FloatField(allow_null=True),
        "estimated_ci_low": serializers.FloatField(allow_null=True),
        "estimated_ci_high": serializers.FloatField(allow_null=True),
        "estimated_per_class": ClassEstimateOutputSerializer(many=True),
        "estimated_confusions": ConfusionOutputSerializer(many=True),
    },
)


class AnnotatorQualityListApi(ProjectScopedMixin, APIView):
    @extend_schema(
        responses=ANNOTATOR_QUALITY_OUTPUT,
        description="Per annotator: speed, skip rate, agreement with consensus and gold, gold-check accuracy "
        "with a 95% Wilson interval, fast answers and drift; beside them, the accuracy truth inference "
        "estimates from the latest succeeded run (overall and per class, with 95% intervals) and the "
        "confusion matrix. Analysts get only their own row.",
    )
    def get(self, request: Request, slug: str) -> Response:
        access = self.get_access()
        rows = annotator_quality_list(project=access.project, viewer=access)
        return Response([row.to_json() for row in rows])


class AnnotatorQualityCsvApi(ProjectScopedMixin, APIView):
    @extend_schema(
        operation_id="projects_annotators_export_csv",
        responses={(200, "text/csv"): OpenApiTypes.STR},
        description="The annotator table as CSV, every column. Owners, reviewers and data scientists only.",
    )
    def get(self, request: Request, slug: str) -> StreamingHttpResponse:
        access = self.get_access(Action.OVERSEE)
        project = access.project
        rows = annotator_quality_list(project=project, viewer=access)
        response = StreamingHttpResponse(annotator_quality_csv_lines(rows), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="annotators-{project.slug}.csv"'
        return response
