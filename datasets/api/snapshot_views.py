"""Dataset snapshots over REST: list and make them, read one with its manifest, download its files, compare
two versions, and follow a snapshot being built. The same services and selectors as the pages and the CLI."""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.exceptions import NotFoundError
from datasets import selectors
from datasets.api import serializers as s
from datasets.choices import Trigger
from datasets.filtersets import SnapshotFilterSet
from datasets.models import Snapshot
from datasets.services.snapshots import snapshot_create_or_join
from projects.permissions import Action
from projects.web import ProjectScopedMixin


class SnapshotListCreateApi(ProjectScopedMixin, ListAPIView[Snapshot]):
    serializer_class = s.SnapshotOutputSerializer
    filterset_class = SnapshotFilterSet

    def get_queryset(self) -> QuerySet[Snapshot]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no project in the URL
            return Snapshot.objects.none()
        project = self.get_project(Action.OVERSEE)
        return (
            selectors.snapshot_list(project=project).select_related("project").order_by("-created_at", "-id")
        )

    @extend_schema(
        request=s.SnapshotCreateInputSerializer,
        responses={202: s.SnapshotOutputSerializer, 200: s.SnapshotOutputSerializer},
        description="Records a snapshot and builds it on the workers (202; in the embedded mode, in the server's "
        "background thread); while a snapshot of the same request is pending or being built, answers with that "
        "one (200). Follow it at snapshots/jobs/{id}/. It gets a version number once every file is written and "
        "checksummed.",
    )
    def post(self, request: Request, slug: str) -> Response:
        access = self.get_access(Action.EXPORT)
        data = s.SnapshotCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        started = snapshot_create_or_join(
            project=access.project, user=access.user, request=data.snapshot_request(), trigger=Trigger.API
        )
        started.job.refresh_from_db()
        output = s.SnapshotOutputSerializer(started.job, context={"request": request})
        return Response(
            output.data, status=status.HTTP_202_ACCEPTED if started.created else status.HTTP_200_OK
        )


class SnapshotDetailApi(ProjectScopedMixin, APIView):
    @extend_schema(responses=s.SnapshotDetailOutputSerializer, description="A version with its manifest.")
    def get(self, request: Request, slug: str, version: int) -> Response:
        snapshot = selectors.snapshot_get(project=self.get_project(Action.OVERSEE), version=version)
        return Response(s.SnapshotDetailOutputSerializer(snapshot, context={"request": request}).data)


class _BinaryRenderer(BaseRenderer):
    """Lets clients ask for files with `Accept: application/octet-stream`; errors still come as JSON text."""

    media_type = "application/octet-stream"
    format = "bin"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        return data if isinstance(data, bytes) else json.dumps(data).encode()


SNAPSHOT_FILE_TYPES = ("application/octet-stream", "text/csv", "application/json", "text/markdown")


class SnapshotFileApi(ProjectScopedMixin, APIView):
    renderer_classes = [JSONRenderer, _BinaryRenderer]

    @extend_schema(
        # The content type follows the file's name (FileResponse): Parquet and JSON Lines are octet-streams.
        responses={(200, media_type): OpenApiTypes.BINARY for media_type in SNAPSHOT_FILE_TYPES},
        description="Streams one of the version's files (a name from its manifest, e.g. data.parquet or "
        "hf/data/train-00000-of-00001.parquet), or manifest.json.",
    )
    def get(self, request: Request, slug: str, version: int, name: str) -> FileResponse:
        snapshot = selectors.snapshot_get(project=self.get_project(Action.OVERSEE), version=version)
        try:
            handle = selectors.snapshot_file_open(snapshot=snapshot, name=name)
            return FileResponse(handle, as_attachment=True, filename=PurePosixPath(name).name)
        except FileNotFoundError as exc:
            raise NotFoundError(f"The file '{name}' is missing from storage.") from exc


class SnapshotDiffApi(ProjectScopedMixin, APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("old", int, required=True, description="The older version."),
            OpenApiParameter("new", int, required=True, description="The newer version."),
        ],
        responses={
            200: s.SnapshotDiffOutputSerializer,
            400: OpenApiResponse(description="Missing or invalid versions"),
            404: OpenApiResponse(description="Unknown version"),
        },
        description="Items added, removed and relabeled between two versions, overall and per class.",
    )
    def get(self, request: Request, slug: str) -> Response:
        project = self.get_project(Action.OVERSEE)
        data = s.SnapshotDiffInputSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        old = selectors.snapshot_get(project=project, version=data.validated_data["old"])
        new = selectors.snapshot_get(project=project, version=data.validated_data["new"])
        return Response(selectors.snapshot_diff(old=old, new=new).to_json())


class SnapshotJobApi(ProjectScopedMixin, APIView):
    @extend_schema(
        responses=s.SnapshotOutputSerializer,
        description="Any snapshot by its id, whatever its status: pending, running, failed (with its error), "
        "skipped or succeeded (with its version).",
    )
    def get(self, request: Request, slug: str, snapshot_id: int) -> Response:
        snapshot = selectors.snapshot_job_get(
            project=self.get_project(Action.OVERSEE), snapshot_id=snapshot_id
        )
        return Response(s.SnapshotOutputSerializer(snapshot, context={"request": request}).data)
