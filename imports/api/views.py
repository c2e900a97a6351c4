from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from imports.api.serializers import ImportCreateInputSerializer, ImportJobOutputSerializer
from imports.filtersets import ImportJobFilterSet
from imports.selectors import import_job_get, import_job_list
from imports.services.jobs import import_job_create_or_join, import_options_build, import_request_size_check
from projects.models import ImportJob
from projects.permissions import Action
from projects.web import ProjectScopedMixin


class ImportJobListCreateApi(ProjectScopedMixin, ListAPIView[ImportJob]):
    serializer_class = ImportJobOutputSerializer
    filterset_class = ImportJobFilterSet
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_queryset(self) -> QuerySet[ImportJob]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no project in the URL
            return ImportJob.objects.none()
        return import_job_list(project=self.get_project(Action.IMPORT))

    @extend_schema(
        request=ImportCreateInputSerializer,
        responses={
            202: ImportJobOutputSerializer,
            200: OpenApiResponse(
                ImportJobOutputSerializer,
                description="The same file with the same options is already pending or running: that import.",
            ),
            413: OpenApiResponse(description="The upload is larger than OVERSIGHT_IMPORT_MAX_UPLOAD_BYTES."),
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        access = self.get_access(Action.IMPORT)
        project = access.project
        # 413 from the declared length, before the body is parsed; the file's own size is checked again.
        import_request_size_check(content_length=request.META.get("CONTENT_LENGTH"))
        data = ImportCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        upload = fields.pop("file")
        started = import_job_create_or_join(
            project=project, created_by=access.user, upload=upload,
            options=import_options_build(**fields),
        )  # fmt: skip
        started.job.refresh_from_db()
        code = status.HTTP_202_ACCEPTED if started.created else status.HTTP_200_OK
        return Response(ImportJobOutputSerializer(started.job).data, status=code)


class ImportJobDetailApi(ProjectScopedMixin, APIView):
    @extend_schema(responses=ImportJobOutputSerializer)
    def get(self, request: Request, slug: str, job_id: int) -> Response:
        job = import_job_get(project=self.get_project(Action.IMPORT), job_id=job_id)
        return Response(ImportJobOutputSerializer(job).data)
