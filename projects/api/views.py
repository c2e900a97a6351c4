from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.web import user_of
from projects.access import ProjectAccess
from projects.api.serializers import (
    LabelChangeOutputSerializer,
    LabelEditInputSerializer,
    LabelInputSerializer,
    LabelMergeInputSerializer,
    LabelOutputSerializer,
    MembershipCreateInputSerializer,
    MembershipOutputSerializer,
    MembershipUpdateInputSerializer,
    ProjectCreateInputSerializer,
    ProjectOutputSerializer,
    ProjectUpdateInputSerializer,
)
from projects.filtersets import MembershipFilterSet, ProjectFilterSet
from projects.models import Label, Membership, Project
from projects.permissions import Action
from projects.selectors import (
    label_history,
    membership_get,
    membership_list_for_user,
    project_get_for_user,
    project_list_for_user,
)
from projects.services.label_keys import label_key_normalise
from projects.services.label_schema import (
    LabelEdit,
    LabelState,
    label_add,
    label_edit,
    label_merge,
    label_restore,
    label_retire,
    labels_apply,
)
from projects.services.members import membership_add, membership_remove, membership_set_role
from projects.services.projects import LabelSpec, project_create, project_update
from projects.web import ProjectScopedMixin


def _project_body(access: ProjectAccess) -> dict[str, Any]:
    """A project as its member sees it, with their role."""
    return dict(
        ProjectOutputSerializer(access.project, context={"roles": {access.project.pk: access.role}}).data
    )


class ProjectListCreateApi(ListAPIView[Project]):
    serializer_class = ProjectOutputSerializer
    filterset_class = ProjectFilterSet

    def get_queryset(self) -> QuerySet[Project]:
        return project_list_for_user(user=self.request.user).prefetch_related("labels")

    def get_serializer_context(self) -> dict[str, Any]:
        roles = dict(user_of(self.request).memberships.values_list("project_id", "role"))
        return {**super().get_serializer_context(), "roles": roles}

    @extend_schema(request=ProjectCreateInputSerializer, responses={201: ProjectOutputSerializer})
    def post(self, request: Request) -> Response:
        data = ProjectCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        labels = [LabelSpec(**label) for label in fields.pop("labels")]
        project = project_create(labels=labels, created_by=user_of(request), **fields)
        access = project_get_for_user(user=request.user, slug=project.slug)
        return Response(_project_body(access), status=status.HTTP_201_CREATED)


class ProjectDetailApi(ProjectScopedMixin, APIView):
    @extend_schema(responses=ProjectOutputSerializer)
    def get(self, request: Request, slug: str) -> Response:
        return Response(_project_body(self.get_access()))

    @extend_schema(request=ProjectUpdateInputSerializer, responses=ProjectOutputSerializer)
    def patch(self, request: Request, slug: str) -> Response:
        access = self.get_access(Action.EDIT_PROJECT)
        data = ProjectUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        labels = [LabelState(**state) for state in fields.pop("labels", [])]
        with transaction.atomic():
            project = project_update(project=access.project, **fields)
            if labels:
                labels_apply(project=project, labels=labels, changed_by=access.user)
                project.refresh_from_db()
        return Response(_project_body(ProjectAccess(project=project, user=access.user, role=access.role)))


# --- the label schema -------------------------------------------------------------------------------------


class LabelListCreateApi(ProjectScopedMixin, APIView):
    @extend_schema(
        responses=LabelOutputSerializer(many=True), description="The labels, retired ones included."
    )
    def get(self, request: Request, slug: str) -> Response:
        access = self.get_access()
        labels = Label.objects.filter(project=access.project).order_by("order", "id")
        return Response(LabelOutputSerializer(labels, many=True).data)

    @extend_schema(request=LabelInputSerializer, responses={201: LabelOutputSerializer})
    def post(self, request: Request, slug: str) -> Response:
        access = self.get_access(Action.EDIT_PROJECT)
        data = LabelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        label = label_add(project=access.project, changed_by=access.user, **data.validated_data)
        return Response(LabelOutputSerializer(label).data, status=status.HTTP_201_CREATED)


class LabelDetailApi(ProjectScopedMixin, APIView):
    @extend_schema(
        request=LabelEditInputSerializer, responses=LabelOutputSerializer,
        description="Changes a label's name, hotkey or colour, or retires (restores) it. The key never changes.",
    )  # fmt: skip
    def patch(self, request: Request, slug: str, key: str) -> Response:
        access = self.get_access(Action.EDIT_PROJECT)
        data = LabelEditInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        state = LabelState(key=key, **fields)
        with transaction.atomic():
            label_edit(
                project=access.project, key=key, changed_by=access.user,
                edit=LabelEdit(name=state.name, hotkey=state.hotkey, color=state.color),
            )  # fmt: skip
            if state.retired is not None:
                service = label_retire if state.retired else label_restore
                service(project=access.project, key=key, changed_by=access.user)
        label = Label.objects.get(project=access.project, key=label_key_normalise(key) or key)
        return Response(LabelOutputSerializer(label).data)


class LabelMergeApi(ProjectScopedMixin, APIView):
    @extend_schema(
        request=LabelMergeInputSerializer, responses=LabelChangeOutputSerializer,
        description="Merges this label into another in one transaction: answers, gold labels, evaluation labels, "
        "LF targets, votes, weak labels and review items move; the label leaves the schema and its key stays "
        "an alias. The recorded change lists the rows moved, per kind.",
    )  # fmt: skip
    def post(self, request: Request, slug: str, key: str) -> Response:
        access = self.get_access(Action.EDIT_PROJECT)
        data = LabelMergeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        change = label_merge(
            project=access.project, key=key, into=data.validated_data["into"], changed_by=access.user
        )
        return Response(LabelChangeOutputSerializer(change).data)


class LabelHistoryApi(ProjectScopedMixin, APIView):
    @extend_schema(
        responses=LabelChangeOutputSerializer(many=True), description="Schema changes, latest first."
    )
    def get(self, request: Request, slug: str) -> Response:
        access = self.get_access()
        return Response(LabelChangeOutputSerializer(label_history(project=access.project), many=True).data)


class MembershipListCreateApi(ProjectScopedMixin, ListAPIView[Membership]):
    serializer_class = MembershipOutputSerializer
    filterset_class = MembershipFilterSet
    pagination_class = None  # every member, in one list

    def get_queryset(self) -> QuerySet[Membership]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no project in the URL
            return Membership.objects.none()
        return membership_list_for_user(access=self.get_access())

    @extend_schema(
        description="The project's members. Analysts get themselves and the owners, reviewers and data "
        "scientists, never another analyst (blind labeling).",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=MembershipCreateInputSerializer, responses={201: MembershipOutputSerializer})
    def post(self, request: Request, slug: str) -> Response:
        project = self.get_project(Action.MANAGE_MEMBERS)
        data = MembershipCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = membership_add(project=project, **data.validated_data)
        return Response(MembershipOutputSerializer(membership).data, status=status.HTTP_201_CREATED)


class MembershipDetailApi(ProjectScopedMixin, APIView):
    @extend_schema(request=MembershipUpdateInputSerializer, responses=MembershipOutputSerializer)
    def patch(self, request: Request, slug: str, user_id: int) -> Response:
        project = self.get_project(Action.MANAGE_MEMBERS)
        data = MembershipUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = membership_set_role(
            membership=membership_get(project=project, user_id=user_id),
            role=data.validated_data["role"],
        )
        return Response(MembershipOutputSerializer(membership).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, slug: str, user_id: int) -> Response:
        project = self.get_project(Action.MANAGE_MEMBERS)
        membership_remove(membership=membership_get(project=project, user_id=user_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
