"""Export schedules over REST: list and create them, read, change and delete one, run one now. Thin doors onto
datasets.services.schedules, like the pages."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from datasets.api import schedule_serializers as s
from datasets.filtersets import ExportScheduleFilterSet
from datasets.models import ExportSchedule
from datasets.selectors import export_schedule_get, export_schedule_list
from datasets.services.schedules import (
    export_schedule_create,
    export_schedule_delete,
    export_schedule_run_now,
    export_schedule_update,
)
from projects.models import Project
from projects.permissions import Action
from projects.web import ProjectScopedMixin


def _schedule_get(project: Project, schedule_id: int) -> ExportSchedule:
    return export_schedule_get(project=project, schedule_id=schedule_id)


class ExportScheduleListCreateApi(ProjectScopedMixin, ListAPIView[ExportSchedule]):
    serializer_class = s.ExportScheduleOutputSerializer
    filterset_class = ExportScheduleFilterSet
    pagination_class = None  # every schedule, in one list

    def get_queryset(self) -> QuerySet[ExportSchedule]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no project in the URL
            return ExportSchedule.objects.none()
        return export_schedule_list(project=self.get_project(Action.OVERSEE))

    @extend_schema(
        request=s.ExportScheduleCreateInputSerializer,
        responses={201: s.ExportScheduleOutputSerializer},
        description="Give `every` and `period`, or a `crontab` (UTC). Each run makes a snapshot on a worker, "
        "skipped when the data did not change; the schedule keeps its newest `keep_last` versions.",
    )
    def post(self, request: Request, slug: str) -> Response:
        access = self.get_access(Action.EXPORT)
        project = access.project
        data = s.ExportScheduleCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = access.user
        schedule = export_schedule_create(project=project, user=user, **data.service_kwargs())
        output = s.ExportScheduleOutputSerializer(_schedule_get(project, schedule.pk))
        return Response(output.data, status=status.HTTP_201_CREATED)


class ExportScheduleDetailApi(ProjectScopedMixin, APIView):
    @extend_schema(responses=s.ExportScheduleOutputSerializer)
    def get(self, request: Request, slug: str, schedule_id: int) -> Response:
        schedule = _schedule_get(self.get_project(Action.OVERSEE), schedule_id)
        return Response(s.ExportScheduleOutputSerializer(schedule).data)

    @extend_schema(request=s.ExportScheduleUpdateInputSerializer, responses=s.ExportScheduleOutputSerializer)
    def patch(self, request: Request, slug: str, schedule_id: int) -> Response:
        project = self.get_project(Action.EXPORT)
        schedule = _schedule_get(project, schedule_id)
        data = s.ExportScheduleUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        export_schedule_update(schedule=schedule, **data.service_kwargs(schedule))
        return Response(s.ExportScheduleOutputSerializer(_schedule_get(project, schedule_id)).data)

    @extend_schema(responses={204: None}, description="Its snapshots stay.")
    def delete(self, request: Request, slug: str, schedule_id: int) -> Response:
        schedule = _schedule_get(self.get_project(Action.EXPORT), schedule_id)
        export_schedule_delete(schedule=schedule)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExportScheduleRunApi(ProjectScopedMixin, APIView):
    @extend_schema(
        request=None,
        responses={202: s.ExportScheduleOutputSerializer},
        description="Queues one run on a worker (in-process in the embedded mode); 400 for a disabled schedule.",
    )
    def post(self, request: Request, slug: str, schedule_id: int) -> Response:
        project = self.get_project(Action.EXPORT)
        export_schedule_run_now(schedule=_schedule_get(project, schedule_id))
        output = s.ExportScheduleOutputSerializer(_schedule_get(project, schedule_id))
        return Response(output.data, status=status.HTTP_202_ACCEPTED)
