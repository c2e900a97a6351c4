from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labeling import selectors
from labeling.api import serializers as s
from labeling.filtersets import ImportJobFilterSet, ItemFilterSet
from labeling.models import ImportJob, Item, Project
from labeling.permissions import Action
from labeling.services.imports import import_job_create, import_options_build, import_request_size_check
from labeling.services.members import membership_add, membership_remove, membership_set_role
from labeling.services.projects import LabelSpec, project_create, project_update


class ProjectScopedMixin:
    """Resolves `slug` from the URL to a permission-checked project (the selector the HTML views use too)."""

    def get_project(self, action: Action = Action.VIEW) -> Project:
        view: APIView = self  # type: ignore[assignment]
        return selectors.project_get_for_user(user=view.request.user, slug=view.kwargs["slug"], action=action)


class ProjectListCreateApi(ListAPIView[Project]):
    serializer_class = s.ProjectOutputSerializer

    def get_queryset(self) -> QuerySet[Project]:
        return selectors.project_list_for_user(user=self.request.user).prefetch_related("labels")

    def get_serializer_context(self) -> dict[str, Any]:
        roles = dict(self.request.user.memberships.values_list("project_id", "role"))  # type: ignore[union-attr]
        return {**super().get_serializer_context(), "roles": roles}

    @extend_schema(request=s.ProjectCreateInputSerializer, responses={201: s.ProjectOutputSerializer})
    def post(self, request: Request) -> Response:
        data = s.ProjectCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        labels = [LabelSpec(**label) for label in fields.pop("labels")]
        project = project_create(labels=labels, created_by=request.user, **fields)  # type: ignore[arg-type]
        project = selectors.project_get_for_user(user=request.user, slug=project.slug)
        return Response(s.ProjectOutputSerializer(project).data, status=status.HTTP_201_CREATED)


class ProjectDetailApi(ProjectScopedMixin, APIView):
    @extend_schema(responses=s.ProjectOutputSerializer)
    def get(self, request: Request, slug: str) -> Response:
        return Response(s.ProjectOutputSerializer(self.get_project()).data)

    @extend_schema(request=s.ProjectUpdateInputSerializer, responses=s.ProjectOutputSerializer)
    def patch(self, request: Request, slug: str) -> Response:
        project = self.get_project(Action.EDIT_PROJECT)
        data = s.ProjectUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = project_update(project=project, **data.validated_data)
        return Response(s.ProjectOutputSerializer(project).data)


class MembershipListCreateApi(ProjectScopedMixin, APIView):
    @extend_schema(
        responses=s.MembershipOutputSerializer(many=True),
        description="The project's members. Analysts get themselves and the owners, reviewers and data "
        "scientists, never another analyst (blind labeling).",
    )
    def get(self, request: Request, slug: str) -> Response:
        memberships = selectors.membership_list_for_user(project=self.get_project(), user=request.user)
        return Response(s.MembershipOutputSerializer(memberships, many=True).data)

    @extend_schema(request=s.MembershipCreateInputSerializer, responses={201: s.MembershipOutputSerializer})
    def post(self, request: Request, slug: str) -> Response:
        project = self.get_project(Action.MANAGE_MEMBERS)
        data = s.MembershipCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = membership_add(project=project, **data.validated_data)
        return Response(s.MembershipOutputSerializer(membership).data, status=status.HTTP_201_CREATED)


class MembershipDetailApi(ProjectScopedMixin, APIView):
    @extend_schema(request=s.MembershipUpdateInputSerializer, responses=s.MembershipOutputSerializer)
    def patch(self, request: Request, slug: str, user_id: int) -> Response:
        project = self.get_project(Action.MANAGE_MEMBERS)
        data = s.MembershipUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = membership_set_role(
            membership=selectors.membership_get(project=project, user_id=user_id),
            role=data.validated_data["role"],
        )
        return Response(s.MembershipOutputSerializer(membership).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, slug: str, user_id: int) -> Response:
        project = self.get_project(Action.MANAGE_MEMBERS)
        membership_remove(membership=selectors.membership_get(project=project, user_id=user_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ItemListApi(ProjectScopedMixin, ListAPIView[Item]):
    serializer_class = s.ItemOutputSerializer
    filterset_class = ItemFilterSet

    def get_queryset(self) -> QuerySet[Item]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no project in the URL
            return Item.objects.none()
        return selectors.item_list(project=self.get_project())


class ItemDetailApi(ProjectScopedMixin, APIView):
    @extend_schema(
        responses=s.ItemDetailOutputSerializer,
        description="The item with its annotations. Analysts get only their own annotation (blind labeling: "
        "nobody else's, imported ones included); annotation_count counts everyone's.",
    )
    def get(self, request: Request, slug: str, item_id: int) -> Response:
        project = self.get_project()
        item = selectors.item_get(project=project, item_id=item_id)
        item.annotation_count = item.annotations.count()  # type: ignore[attr-defined]
        annotations = selectors.item_annotations_for_user(project=project, item=item, user=request.user)
        item._prefetched_objects_cache = {"annotations": annotations}  # type: ignore[attr-defined]
        return Response(s.ItemDetailOutputSerializer(item).data)


class ImportJobListCreateApi(ProjectScopedMixin, ListAPIView[ImportJob]):
    serializer_class = s.ImportJobOutputSerializer
    filterset_class = ImportJobFilterSet
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_queryset(self) -> QuerySet[ImportJob]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no project in the URL
            return ImportJob.objects.none()
        return selectors.import_job_list(project=self.get_project(Action.IMPORT))

    @extend_schema(
        request=s.ImportCreateInputSerializer,
        responses={
            202: s.ImportJobOutputSerializer,
            413: OpenApiResponse(description="The upload is larger than OVERSIGHT_IMPORT_MAX_UPLOAD_BYTES."),
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        project = self.get_project(Action.IMPORT)
        # 413 from the declared length, before the body is parsed; the file's own size is checked again.
        import_request_size_check(content_length=request.META.get("CONTENT_LENGTH"))
        data = s.ImportCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        upload = fields.pop("file")
        job = import_job_create(
            project=project, created_by=request.user, upload=upload,  # type: ignore[arg-type]
            options=import_options_build(**fields),
        )  # fmt: skip
        job.refresh_from_db()
        return Response(s.ImportJobOutputSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ImportJobDetailApi(ProjectScopedMixin, APIView):
    @extend_schema(responses=s.ImportJobOutputSerializer)
    def get(self, request: Request, slug: str, job_id: int) -> Response:
        job = selectors.import_job_get(project=self.get_project(Action.IMPORT), job_id=job_id)
        return Response(s.ImportJobOutputSerializer(job).data)
