"""Truth inference over REST: the runs, one run with each source's estimated reliability, starting a run, and
the items' posteriors. The same selectors and service as the inference page and `infer_labels`.

Owners, reviewers and data scientists only (Action.OVERSEE, as the dashboard): an analyst never sees another
analyst's reliability, and gets their own estimate in the annotator table (quality_views).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.pagination import CappedPagination
from oversight.api.truth_serializers import (
    InferenceRunDetailOutputSerializer,
    InferenceRunOutputSerializer,
    ItemInferredLabelOutputSerializer,
)
from oversight.choices import JobTrigger
from oversight.filtersets import ItemInferredLabelFilterSet
from oversight.models import InferenceRun, ItemInferredLabel
from oversight.selectors.truth import (
    inference_run_get,
    inference_run_list,
    inferred_label_classes,
    inferred_label_list,
)
from oversight.services.truth import inference_run_start
from projects.permissions import Action
from projects.web import ProjectScopedMixin


class InferenceRunListApi(ProjectScopedMixin, ListAPIView[InferenceRun]):
    """The project's truth-inference runs, newest first (each source's estimates: the run's endpoint)."""

    serializer_class = InferenceRunOutputSerializer

    def get_queryset(self) -> QuerySet[InferenceRun]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no project in the URL
            return InferenceRun.objects.none()
        return inference_run_list(project=self.get_project(Action.OVERSEE))


class InferenceRunDetailApi(ProjectScopedMixin, APIView):
    @extend_schema(
        responses=InferenceRunDetailOutputSerializer,
        description="One run: its state, how the variant was chosen, its metrics and every source's estimated "
        "accuracy (with its 95% interval), accuracy per class and confusion matrix.",
    )
    def get(self, request: Request, slug: str, number: int) -> Response:
        project = self.get_project(Action.OVERSEE)
        run = inference_run_get(project=project, number=number)
        return Response(InferenceRunDetailOutputSerializer(run).data)


class InferenceRunStartApi(ProjectScopedMixin, APIView):
    @extend_schema(
        request=None,
        responses={202: InferenceRunDetailOutputSerializer, 200: InferenceRunDetailOutputSerializer},
        description="Starts a truth-inference run on the workers (202); while one is pending or running, "
        "answers with that one (200). Poll the run for its results. 400 when there is nothing to infer from.",
    )
    def post(self, request: Request, slug: str) -> Response:
        access = self.get_access(Action.OVERSEE)
        started = inference_run_start(project=access.project, user=access.user, trigger=JobTrigger.API)
        started.job.refresh_from_db()
        code = status.HTTP_202_ACCEPTED if started.created else status.HTTP_200_OK
        return Response(InferenceRunDetailOutputSerializer(started.job).data, status=code)


class ItemInferredLabelListApi(ProjectScopedMixin, ListAPIView[ItemInferredLabel]):
    """The items' posteriors from the latest succeeded run, least sure first."""

    serializer_class = ItemInferredLabelOutputSerializer
    filterset_class = ItemInferredLabelFilterSet
    pagination_class = CappedPagination  # a million items: counted up to 10,000 (core.pagination)
    labels: tuple[str, ...] = ()  # the run's classes, read with the queryset

    def get_queryset(self) -> QuerySet[ItemInferredLabel]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no project in the URL
            return ItemInferredLabel.objects.none()
        project = self.get_project(Action.SEE_MODEL_OUTPUTS)
        self.labels = tuple(inferred_label_classes(project=project))
        return inferred_label_list(project=project)

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "labels": self.labels}
