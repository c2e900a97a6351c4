from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.exceptions import NotFoundError
from core.spans import token_offsets_of
from labeling.api.serializers import (
    AnalystSummaryOutputSerializer,
    AnnotationSubmitInputSerializer,
    AnnotationSubmitOutputSerializer,
    FlagInputSerializer,
    FlagOutputSerializer,
    InteractionEventBatchInputSerializer,
    InteractionEventOutputSerializer,
    ItemDetailOutputSerializer,
    QueueItemOutputSerializer,
    QueueSkipInputSerializer,
    QueueUndoInputSerializer,
    annotation_data,
    queue_item_data,
)
from labeling.filtersets import InteractionEventFilterSet
from labeling.hooks import Suggestion
from labeling.models import InteractionEvent
from labeling.selectors import item_annotations_for_user, item_suggestion, suggestions_shown
from labeling.selectors.activity import (
    EXPORT_FORMATS,
    analyst_summary_list,
    interaction_event_list_for_user,
    interaction_events_export_lines,
)
from labeling.services.annotations import RationaleSpec, annotation_submit, annotation_undo_last
from labeling.services.interactions import EventSpec, interaction_events_record, item_flag
from labeling.services.queue import QueueItem, queue_item_next, queue_item_skip
from projects.models import Project
from projects.permissions import Action
from projects.selectors import item_get
from projects.services.label_keys import ERROR_NO_LABEL
from projects.web import ProjectScopedMixin


class ItemDetailApi(ProjectScopedMixin, APIView):
    @extend_schema(
        responses=ItemDetailOutputSerializer,
        description="The item with its annotations. Analysts get only their own annotation (blind labeling: "
        "nobody else's, imported ones included); annotation_count counts everyone's.",
    )
    def get(self, request: Request, slug: str, item_id: int) -> Response:
        access = self.get_access()
        project = access.project
        item = item_get(project=project, item_id=item_id)
        annotations = item_annotations_for_user(access=access, item=item)
        return Response(ItemDetailOutputSerializer(item, context={"annotations": annotations}).data)


def _queue_item_data(
    project: Project, current: QueueItem, suggestion: Suggestion | None = None, *, shown: bool = False
) -> dict[str, Any]:
    item = current.item
    spans = project.is_spans
    return queue_item_data(
        item=item, lease_expires_at=current.assignment.expires_at, previous_labels=current.previous_labels,
        previous_spans=current.previous_spans, suggestion=suggestion,
        tokens=token_offsets_of(item.text, item.token_offsets) if spans else [],
        suggested_spans=item.suggested_spans if spans and shown else [],
    )  # fmt: skip


class QueueNextApi(ProjectScopedMixin, APIView):
    @extend_schema(
        responses={200: QueueItemOutputSerializer, 204: None},
        description="The item to label now, reserved for you until lease_expires_at; 204 when none is left.",
    )
    def get(self, request: Request, slug: str) -> Response:
        access = self.get_access(Action.LABEL)
        project = access.project
        shown = suggestions_shown(access=access)
        current = queue_item_next(project=project, user=access.user, suggest=shown)
        if current is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        suggestion = item_suggestion(project=project, item=current.item) if shown else None
        return Response(_queue_item_data(project, current, suggestion, shown=shown))


class AnnotationSubmitApi(ProjectScopedMixin, APIView):
    @extend_schema(
        request=AnnotationSubmitInputSerializer,
        responses={201: AnnotationSubmitOutputSerializer, 200: AnnotationSubmitOutputSerializer},
        description="Stores your answer. 201 when stored; 200 for a retry of the same client_uuid (nothing "
        "new is stored) or a changed earlier answer.",
    )
    def post(self, request: Request, slug: str) -> Response:
        access = self.get_access(Action.LABEL)
        project = access.project
        data = AnnotationSubmitInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if not project.is_spans and not fields["labels"]:
            raise serializers.ValidationError({"labels": [ERROR_NO_LABEL]})
        fields["rationales"] = [RationaleSpec(**span) for span in fields["rationales"]]
        result = annotation_submit(project=project, user=access.user, membership=access.membership, **fields)
        body = {
            "annotation": annotation_data(result.annotation),
            "created": result.created,
            "changed": result.changed,
        }
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


class QueueSkipApi(ProjectScopedMixin, APIView):
    @extend_schema(request=QueueSkipInputSerializer, responses={204: None})
    def post(self, request: Request, slug: str) -> Response:
        access = self.get_access(Action.LABEL)
        project = access.project
        data = QueueSkipInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        queue_item_skip(project=project, user=access.user, **data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class QueueUndoApi(ProjectScopedMixin, APIView):
    @extend_schema(
        request=QueueUndoInputSerializer,
        responses=QueueItemOutputSerializer,
        description="Takes back your latest answer in this project and hands its item back to you.",
    )
    def post(self, request: Request, slug: str) -> Response:
        access = self.get_access(Action.LABEL)
        project = access.project
        data = QueueUndoInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        current = annotation_undo_last(project=project, user=access.user, **data.validated_data)
        return Response(_queue_item_data(access.project, current))


class FlagCreateApi(ProjectScopedMixin, APIView):
    @extend_schema(request=FlagInputSerializer, responses={201: FlagOutputSerializer})
    def post(self, request: Request, slug: str) -> Response:
        access = self.get_access(Action.LABEL)
        project = access.project
        data = FlagInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        flag = item_flag(project=project, user=access.user, **data.validated_data)
        return Response(FlagOutputSerializer(flag).data, status=status.HTTP_201_CREATED)


class InteractionEventListCreateApi(ProjectScopedMixin, ListAPIView[InteractionEvent]):
    """Interaction events, oldest first. Analysts see their own; other roles see everyone's."""

    serializer_class = InteractionEventOutputSerializer
    filterset_class = InteractionEventFilterSet

    def get_queryset(self) -> QuerySet[InteractionEvent]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no project in the URL
            return InteractionEvent.objects.none()
        access = self.get_access()
        return interaction_event_list_for_user(project=access.project, viewer=access)

    @extend_schema(request=InteractionEventBatchInputSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request, slug: str) -> Response:
        access = self.get_access(Action.LABEL)
        project = access.project
        data = InteractionEventBatchInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        events = [EventSpec(**event) for event in data.validated_data["events"]]
        count = interaction_events_record(project=project, user=access.user, events=events)
        return Response({"recorded": count}, status=status.HTTP_201_CREATED)


class InteractionEventExportApi(ProjectScopedMixin, APIView):
    @extend_schema(
        parameters=[OpenApiParameter("fmt", str, OpenApiParameter.PATH, enum=list(EXPORT_FORMATS))],
        responses={(200, "text/csv"): OpenApiTypes.STR, (200, "application/x-ndjson"): OpenApiTypes.STR},
        description="Streams the events (same filters as the list) as CSV or JSON Lines.",
    )
    def get(self, request: Request, slug: str, fmt: str) -> StreamingHttpResponse:
        if fmt not in EXPORT_FORMATS:
            raise NotFoundError(f"Unknown export format '{fmt}': use csv or jsonl.")
        access = self.get_access()
        project = access.project
        events = InteractionEventFilterSet(
            request.query_params, queryset=interaction_event_list_for_user(project=project, viewer=access)
        ).qs
        lines = interaction_events_export_lines(events=events, fmt=fmt)
        response = StreamingHttpResponse(lines, content_type=EXPORT_FORMATS[fmt])
        response["Content-Disposition"] = f'attachment; filename="{project.slug}-events.{fmt}"'
        return response


class AnalystSummaryListApi(ProjectScopedMixin, APIView):
    @extend_schema(
        responses=AnalystSummaryOutputSerializer(many=True),
        description="Per analyst: items per active hour, median seconds per item, skip rate, share of hotkey "
        "use. Analysts get only their own row.",
    )
    def get(self, request: Request, slug: str) -> Response:
        access = self.get_access()
        summaries = analyst_summary_list(project=access.project, viewer=access)
        return Response([summary.to_json() for summary in summaries])
