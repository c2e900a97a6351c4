"""Active learning over REST: settings, models and retraining, the learning curve, simulations. The same
services and selectors as the page and the CLI."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from active_learning import selectors
from active_learning.api import serializers as s
from active_learning.filtersets import LearnerModelFilterSet, SimulationFilterSet
from active_learning.models import LearnerModel, Simulation
from active_learning.services.retrain_start import learner_retrain_or_join
from active_learning.services.simulations import simulation_create
from active_learning.services.training import learner_settings_get, learner_settings_update
from projects.permissions import Action
from projects.web import ProjectScopedMixin


class LearnerSettingsApi(ProjectScopedMixin, APIView):
    @extend_schema(responses=s.LearnerSettingsSerializer)
    def get(self, request: Request, slug: str) -> Response:
        settings = learner_settings_get(project=self.get_project(Action.OVERSEE))
        return Response(s.LearnerSettingsSerializer(settings).data)

    @extend_schema(request=s.LearnerSettingsSerializer, responses=s.LearnerSettingsSerializer)
    def patch(self, request: Request, slug: str) -> Response:
        project = self.get_project(Action.TRAIN)
        data = s.LearnerSettingsSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        settings = learner_settings_update(project=project, **data.validated_data)
        return Response(s.LearnerSettingsSerializer(settings).data)


class LearnerModelListApi(ProjectScopedMixin, ListAPIView[LearnerModel]):
    serializer_class = s.LearnerModelOutputSerializer
    filterset_class = LearnerModelFilterSet

    def get_queryset(self) -> QuerySet[LearnerModel]:
        if getattr(self, "swagger_fake_view", False):
            return LearnerModel.objects.none()
        return selectors.learner_model_list(project=self.get_project(Action.OVERSEE)).select_related(
            "created_by"
        )


class LearnerModelDetailApi(ProjectScopedMixin, APIView):
    @extend_schema(responses=s.LearnerModelOutputSerializer)
    def get(self, request: Request, slug: str, number: int) -> Response:
        model = selectors.learner_model_get(project=self.get_project(Action.OVERSEE), number=number)
        return Response(s.LearnerModelOutputSerializer(model).data)


class LearnerRetrainApi(ProjectScopedMixin, APIView):
    @extend_schema(
        request=None, responses={202: s.LearnerModelOutputSerializer, 200: s.LearnerModelOutputSerializer},
        description="Starts a retrain on the workers (202; in the embedded mode, in the server's background "
        "thread); while one is under way, answers with that one (200). Poll the model for its status.",
    )  # fmt: skip
    def post(self, request: Request, slug: str) -> Response:
        access = self.get_access(Action.TRAIN)
        started = learner_retrain_or_join(project=access.project, user=access.user)
        started.job.refresh_from_db()
        code = status.HTTP_202_ACCEPTED if started.created else status.HTTP_200_OK
        return Response(s.LearnerModelOutputSerializer(started.job).data, status=code)


class LearningCurveApi(ProjectScopedMixin, APIView):
    @extend_schema(responses=s.LearningCurveOutputSerializer)
    def get(self, request: Request, slug: str) -> Response:
        curve = selectors.learning_curve(project=self.get_project(Action.OVERSEE))
        return Response(s.LearningCurveOutputSerializer(curve).data)


class SimulationListCreateApi(ProjectScopedMixin, ListAPIView[Simulation]):
    serializer_class = s.SimulationOutputSerializer
    filterset_class = SimulationFilterSet

    def get_queryset(self) -> QuerySet[Simulation]:
        if getattr(self, "swagger_fake_view", False):
            return Simulation.objects.none()
        return selectors.simulation_list(project=self.get_project(Action.OVERSEE))

    @extend_schema(
        request=s.SimulationCreateInputSerializer, responses={202: s.SimulationOutputSerializer},
        description="Replays the loop on the workers (in-process in the embedded mode); follow it at "
        "simulations/{id}/. The result is shaped like `manage.py simulate_active_learning --json`.",
    )  # fmt: skip
    def post(self, request: Request, slug: str) -> Response:
        access = self.get_access(Action.TRAIN)
        project = access.project
        data = s.SimulationCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        simulation = simulation_create(project=project, user=access.user, **data.validated_data)
        simulation.refresh_from_db()
        return Response(s.SimulationOutputSerializer(simulation).data, status=status.HTTP_202_ACCEPTED)


class SimulationDetailApi(ProjectScopedMixin, APIView):
    @extend_schema(responses=s.SimulationOutputSerializer)
    def get(self, request: Request, slug: str, simulation_id: int) -> Response:
        simulation = selectors.simulation_get(
            project=self.get_project(Action.OVERSEE), simulation_id=simulation_id
        )
        return Response(s.SimulationOutputSerializer(simulation).data)
