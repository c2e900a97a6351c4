"""Review and adjudication over REST: the reviewer queue, decisions, gold labels and known answers, and the
feedback analysts get. The same services as the reviewer view."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.exceptions import NotFoundError
from labeling.models import GoldLabel
from oversight.api.serializers import (
    FeedbackOutputSerializer,
    GoldLabelOutputSerializer,
    KnownAnswersInputSerializer,
    ReviewAllInputSerializer,
    ReviewDecideInputSerializer,
    ReviewPassInputSerializer,
    ReviewRequestInputSerializer,
    ReviewRequestOutputSerializer,
)
from oversight.filtersets import GoldLabelFilterSet, ReviewRequestFilterSet
from oversight.models import ReviewRequest
from oversight.selectors.review import (
    gold_label_list,
    review_context_get,
    review_feedback_list,
    review_queue_counts,
    review_request_list,
)
from oversight.services.review import (
    KnownAnswer,
    gold_checks_set,
    membership_review_all_set,
    review_decide,
    review_next,
    review_pass,
    review_queue_refresh,
    review_request_manual,
)
from projects.models import Item
from projects.permissions import Action
from projects.web import ProjectScopedMixin


class ReviewNextApi(ProjectScopedMixin, APIView):
    @extend_schema(
        responses={200: OpenApiTypes.OBJECT, 204: None},
        description="The item to decide now (claimed for you for 15 minutes), with its annotations, evidence, "
        "flags, LF votes and the label model's answer; 204 when the queue is empty. Span projects add "
        "`kind: \"spans\"`, each annotation's `spans`, the gold's `spans` and `suggested_spans` (the gold's, "
        "else the spans most annotators marked).",
    )
    def get(self, request: Request, slug: str) -> Response:
        access = self.get_access(Action.REVIEW)
        project = access.project
        claim = review_next(project=project, reviewer=access.user)
        if claim is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(review_context_get(project=project, item=claim.item, request=claim.request).to_json())


class ReviewItemApi(ProjectScopedMixin, APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT, description="What a reviewer sees for any item.")
    def get(self, request: Request, slug: str, item_id: int) -> Response:
        project = self.get_project(Action.REVIEW)
        item = Item.objects.filter(project=project, pk=item_id).first()
        if item is None:
            raise NotFoundError("Item not found in this project.")
        open_request = item.review_requests.filter(status=ReviewRequest.Status.OPEN).first()
        return Response(review_context_get(project=project, item=item, request=open_request).to_json())


class ReviewDecisionApi(ProjectScopedMixin, APIView):
    @extend_schema(
        request=ReviewDecideInputSerializer,
        responses={201: GoldLabelOutputSerializer},
        description="Decides an item's gold label. Item projects: `labels`. Span projects: `spans` (the gold "
        "spans, each `{start, end, label, text}` in code points of the item's text) or `annotation_id` (accept "
        "that answer's spans); the gold label's `labels` become the types present and `based_on` lists every "
        "annotation seen with its spans. A bad span is refused with 400 naming it.",
    )
    def post(self, request: Request, slug: str) -> Response:
        access = self.get_access(Action.REVIEW)
        project = access.project
        data = ReviewDecideInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        gold = review_decide(project=project, reviewer=access.user, **data.validated_data)
        return Response(GoldLabelOutputSerializer(gold).data, status=status.HTTP_201_CREATED)


class ReviewPassApi(ProjectScopedMixin, APIView):
    @extend_schema(request=ReviewPassInputSerializer, responses={204: None})
    def post(self, request: Request, slug: str) -> Response:
        access = self.get_access(Action.REVIEW)
        project = access.project
        data = ReviewPassInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review_pass(project=project, reviewer=access.user, item_id=data.validated_data["item_id"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReviewRefreshApi(ProjectScopedMixin, APIView):
    @extend_schema(
        request=None, responses=OpenApiTypes.OBJECT, description="Rebuilds the queue from the data."
    )
    def post(self, request: Request, slug: str) -> Response:
        project = self.get_project(Action.REVIEW)
        added = review_queue_refresh(project=project)
        return Response({"added": added, "counts": review_queue_counts(project=project)})


class ReviewRequestListCreateApi(ProjectScopedMixin, ListAPIView[ReviewRequest]):
    serializer_class = ReviewRequestOutputSerializer
    filterset_class = ReviewRequestFilterSet

    def get_queryset(self) -> QuerySet[ReviewRequest]:
        if getattr(self, "swagger_fake_view", False):
            return ReviewRequest.objects.none()
        return review_request_list(project=self.get_project(Action.REVIEW), status=None)

    @extend_schema(request=ReviewRequestInputSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request, slug: str) -> Response:
        project = self.get_project(Action.REVIEW)
        data = ReviewRequestInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        added = review_request_manual(project=project, **data.validated_data)
        return Response({"added": added}, status=status.HTTP_201_CREATED)


class GoldLabelListCreateApi(ProjectScopedMixin, ListAPIView[GoldLabel]):
    serializer_class = GoldLabelOutputSerializer
    filterset_class = GoldLabelFilterSet

    def get_queryset(self) -> QuerySet[GoldLabel]:
        if getattr(self, "swagger_fake_view", False):
            return GoldLabel.objects.none()
        return gold_label_list(project=self.get_project(Action.REVIEW))

    @extend_schema(
        request=KnownAnswersInputSerializer,
        responses={201: OpenApiTypes.OBJECT},
        description="Known answers (gold checks by default), all or none: a bad entry stores nothing.",
    )
    def post(self, request: Request, slug: str) -> Response:
        access = self.get_access(Action.EDIT_PROJECT)
        project = access.project
        data = KnownAnswersInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answers = [
            KnownAnswer(line=index, external_id=row["external_id"], labels=row["labels"])
            for index, row in enumerate(data.validated_data["answers"], start=1)
        ]
        stored = gold_checks_set(
            project=project,
            answers=answers,
            by=access.user,
            is_check=data.validated_data["is_check"],
        )
        return Response({"stored": stored}, status=status.HTTP_201_CREATED)


class MemberReviewAllApi(ProjectScopedMixin, APIView):
    @extend_schema(
        request=ReviewAllInputSerializer,
        responses=OpenApiTypes.OBJECT,
        description="Sends every label of this member to review (existing ones are queued now), or stops it.",
    )
    def post(self, request: Request, slug: str, user_id: int) -> Response:
        project = self.get_project(Action.MANAGE_MEMBERS)
        data = ReviewAllInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        queued = membership_review_all_set(
            project=project, user_id=user_id, enabled=data.validated_data["enabled"]
        )
        return Response({"review_all_labels": data.validated_data["enabled"], "queued": queued})


class FeedbackListApi(ProjectScopedMixin, APIView):
    @extend_schema(
        responses=FeedbackOutputSerializer(many=True),
        description="Your reviewed items: your answer, the final one.",
    )
    def get(self, request: Request, slug: str) -> Response:
        access = self.get_access(Action.LABEL)
        project = access.project
        return Response([row.to_json() for row in review_feedback_list(project=project, user=access.user)])
