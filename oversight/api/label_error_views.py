"""Label errors over REST: the scans, one scan, starting one, and the latest scan's suspects, ranked. The same
selectors and service as the label-errors page and `find_label_errors`.

Owners, reviewers and data scientists (Action.OVERSEE, as the dashboard): which of a colleague's labels look
wrong is oversight, not something an analyst reads.
"""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.pagination import CappedPagination
from oversight.api.label_error_serializers import (
    ItemLabelIssueOutputSerializer,
    LabelErrorScanOutputSerializer,
)
from oversight.choices import JobTrigger
from oversight.filtersets import ItemLabelIssueFilterSet
from oversight.models import ItemLabelIssue, LabelErrorScan
from oversight.selectors.label_errors import label_error_scan_get, label_error_scan_list, label_issue_list
from oversight.services.label_errors import label_error_scan_start
from projects.permissions import Action
from projects.web import ProjectScopedMixin


class LabelErrorScanListApi(ProjectScopedMixin, ListAPIView[LabelErrorScan]):
    """The project's label-error scans, newest first."""

    serializer_class = LabelErrorScanOutputSerializer

    def get_queryset(self) -> QuerySet[LabelErrorScan]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no project in the URL
            return LabelErrorScan.objects.none()
        return label_error_scan_list(project=self.get_project(Action.OVERSEE))


class LabelErrorScanDetailApi(ProjectScopedMixin, APIView):
    @extend_schema(responses=LabelErrorScanOutputSerializer, description="One scan: its state and metrics.")
    def get(self, request: Request, slug: str, number: int) -> Response:
        scan = label_error_scan_get(project=self.get_project(Action.OVERSEE), number=number)
        return Response(LabelErrorScanOutputSerializer(scan).data)


class LabelErrorScanStartApi(ProjectScopedMixin, APIView):
    @extend_schema(
        request=None,
        responses={202: LabelErrorScanOutputSerializer, 200: LabelErrorScanOutputSerializer},
        description="Starts a label-error scan on the workers (202); while one is pending or running, answers "
        "with that one (200). 400 when the project has too few labeled items, or is multi-label.",
    )
    def post(self, request: Request, slug: str) -> Response:
        access = self.get_access(Action.OVERSEE)
        started = label_error_scan_start(project=access.project, user=access.user, trigger=JobTrigger.API)
        started.job.refresh_from_db()
        code = status.HTTP_202_ACCEPTED if started.created else status.HTTP_200_OK
        return Response(LabelErrorScanOutputSerializer(started.job).data, status=code)


class ItemLabelIssueListApi(ProjectScopedMixin, ListAPIView[ItemLabelIssue]):
    """The latest succeeded scan's suspects, the most likely label error first."""

    serializer_class = ItemLabelIssueOutputSerializer
    filterset_class = ItemLabelIssueFilterSet
    pagination_class = CappedPagination

    def get_queryset(self) -> QuerySet[ItemLabelIssue]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no project in the URL
            return ItemLabelIssue.objects.none()
        project = self.get_project(Action.OVERSEE)
        return label_issue_list(project=project).select_related("item", "scan")
