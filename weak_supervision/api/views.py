"""Labeling functions, their preview and runs over REST: thin doors onto the same services as the CLI."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from projects.access import ProjectAccess
from projects.permissions import Action
from projects.web import ProjectScopedMixin
from weak_supervision import selectors
from weak_supervision.api import serializers as s
from weak_supervision.filtersets import LabelingFunctionFilterSet, LabelModelRunFilterSet
from weak_supervision.lf_suggestions import labeling_function_suggestions
from weak_supervision.models import LabelingFunction, LabelModelRun
from weak_supervision.services.external import PostedVote, external_votes_post
from weak_supervision.services.functions import (
    labeling_function_accept_suggestion,
    labeling_function_create,
    labeling_function_update,
)
from weak_supervision.services.runs import run_start_or_join


class LabelingFunctionListCreateApi(ProjectScopedMixin, ListAPIView[LabelingFunction]):
    serializer_class = s.LabelingFunctionOutputSerializer
    filterset_class = LabelingFunctionFilterSet

    def get_queryset(self) -> QuerySet[LabelingFunction]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no project in the URL
            return LabelingFunction.objects.none()
        return selectors.labeling_function_list(project=self.get_project(Action.SEE_MODEL_OUTPUTS))

    @extend_schema(
        request=s.LabelingFunctionCreateInputSerializer, responses={201: s.LabelingFunctionOutputSerializer}
    )
    def post(self, request: Request, slug: str) -> Response:
        access = self.get_access(Action.WRITE_LFS)
        project = access.project
        data = s.LabelingFunctionCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lf = labeling_function_create(project=project, user=access.user, **data.validated_data)
        lf = selectors.labeling_function_get(project=project, lf_id=lf.pk)
        return Response(s.LabelingFunctionOutputSerializer(lf).data, status=status.HTTP_201_CREATED)


class LabelingFunctionDetailApi(ProjectScopedMixin, APIView):
    @extend_schema(responses=s.LabelingFunctionOutputSerializer)
    def get(self, request: Request, slug: str, lf_id: int) -> Response:
        lf = selectors.labeling_function_get(project=self.get_project(Action.SEE_MODEL_OUTPUTS), lf_id=lf_id)
        return Response(s.LabelingFunctionOutputSerializer(lf).data)

    @extend_schema(
        request=s.LabelingFunctionUpdateInputSerializer,
        responses=s.LabelingFunctionOutputSerializer,
        description="A new label or spec saves a new version; description and active change in place.",
    )
    def patch(self, request: Request, slug: str, lf_id: int) -> Response:
        access = self.get_access(Action.WRITE_LFS)
        project = access.project
        data = s.LabelingFunctionUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lf = selectors.labeling_function_get(project=project, lf_id=lf_id)
        labeling_function_update(lf=lf, user=access.user, **data.validated_data)
        return Response(
            s.LabelingFunctionOutputSerializer(
                selectors.labeling_function_get(project=project, lf_id=lf_id)
            ).data
        )


class LabelingFunctionVersionListApi(ProjectScopedMixin, APIView):
    @extend_schema(responses=s.LabelingFunctionVersionOutputSerializer(many=True))
    def get(self, request: Request, slug: str, lf_id: int) -> Response:
        lf = selectors.labeling_function_get(project=self.get_project(Action.SEE_MODEL_OUTPUTS), lf_id=lf_id)
        versions = lf.versions.select_related("created_by").order_by("number")
        return Response(s.LabelingFunctionVersionOutputSerializer(versions, many=True).data)


class LabelingFunctionPreviewApi(ProjectScopedMixin, APIView):
    @extend_schema(request=s.LabelingFunctionPreviewInputSerializer, responses=OpenApiTypes.OBJECT,
                   description="Tries a rule on a sample of up to 10,000 items without saving it.")  # fmt: skip
    def post(self, request: Request, slug: str) -> Response:
        project = self.get_project(Action.WRITE_LFS)
        data = s.LabelingFunctionPreviewInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(selectors.labeling_function_preview(project=project, **data.validated_data))


def _may_see_errors(access: ProjectAccess | None) -> bool:
    """LF errors and tracebacks are for those who may edit LFs."""
    return access is not None and access.allows(Action.WRITE_LFS)


class RunListCreateApi(ProjectScopedMixin, ListAPIView[LabelModelRun]):
    serializer_class = s.RunOutputSerializer
    filterset_class = LabelModelRunFilterSet

    def get_queryset(self) -> QuerySet[LabelModelRun]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no project in the URL
            return LabelModelRun.objects.none()
        self.access = self.get_access(Action.SEE_MODEL_OUTPUTS)  # read once, for the serializer too
        return selectors.run_list(project=self.access.project).select_related("created_by")

    def get_serializer_context(self) -> dict[str, Any]:
        access: ProjectAccess | None = getattr(self, "access", None)
        return {**super().get_serializer_context(), "may_see_errors": _may_see_errors(access)}

    @extend_schema(request=s.RunCreateInputSerializer,
                   responses={202: s.RunOutputSerializer, 200: s.RunOutputSerializer},
                   description="Starts a run on the workers (202); while one is pending or running, answers with "
                   "that one (200). Poll the run for its progress and results.")  # fmt: skip
    def post(self, request: Request, slug: str) -> Response:
        access = self.get_access(Action.WRITE_LFS)
        data = s.RunCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        started = run_start_or_join(project=access.project, user=access.user, **data.validated_data)
        started.job.refresh_from_db()
        # they may edit LFs: they started it
        output = s.RunOutputSerializer(started.job, context={"may_see_errors": True})
        return Response(
            output.data, status=status.HTTP_202_ACCEPTED if started.created else status.HTTP_200_OK
        )


class RunDetailApi(ProjectScopedMixin, APIView):
    @extend_schema(responses=s.RunOutputSerializer)
    def get(self, request: Request, slug: str, number: int) -> Response:
        access = self.get_access(Action.SEE_MODEL_OUTPUTS)
        run = selectors.run_get(project=access.project, number=number)
        return Response(s.RunOutputSerializer(run, context={"may_see_errors": _may_see_errors(access)}).data)


class LabelingFunctionSuggestionListApi(ProjectScopedMixin, APIView):
    @extend_schema(
        responses=s.SuggestionOutputSerializer(many=True),
        description="Keyword LFs proposed from analysts' evidence spans and frequent words of gold-labeled "
        "items, with coverage and accuracy estimated on the preview sample.",
    )
    def get(self, request: Request, slug: str) -> Response:
        suggestions = labeling_function_suggestions(project=self.get_project(Action.WRITE_LFS))
        return Response([suggestion.to_json() for suggestion in suggestions])


class LabelingFunctionSuggestionAcceptApi(ProjectScopedMixin, APIView):
    @extend_schema(
        request=s.SuggestionAcceptInputSerializer, responses={201: s.LabelingFunctionOutputSerializer}
    )
    def post(self, request: Request, slug: str) -> Response:
        access = self.get_access(Action.WRITE_LFS)
        project = access.project
        data = s.SuggestionAcceptInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lf = labeling_function_accept_suggestion(project=project, user=access.user, **data.validated_data)
        lf = selectors.labeling_function_get(project=project, lf_id=lf.pk)
        return Response(s.LabelingFunctionOutputSerializer(lf).data, status=status.HTTP_201_CREATED)


class ExternalVotesPostApi(ProjectScopedMixin, APIView):
    @extend_schema(
        request=s.ExternalVotesInputSerializer,
        responses=s.ExternalVotesOutputSerializer,
        description="Votes of an LF computed outside Oversight, by item external id (label null = abstain). "
        "All or none; a vote replaces the LF's earlier vote on that item.",
    )
    def post(self, request: Request, slug: str) -> Response:
        project = self.get_project(Action.WRITE_LFS)
        data = s.ExternalVotesInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        votes = [PostedVote(**vote) for vote in data.validated_data["votes"]]
        lf, count = external_votes_post(project=project, name=data.validated_data["name"], votes=votes)
        lf = selectors.labeling_function_get(project=project, lf_id=lf.pk)
        return Response(s.ExternalVotesOutputSerializer({"labeling_function": lf, "votes": count}).data)
