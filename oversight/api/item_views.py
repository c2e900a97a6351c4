"""The item browser over REST: the items endpoint (the items page's FilterSet, filters and sorts) and the bulk
actions on the items its filters select, each through its service and answering with counts."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.filters import StrictFilterBackend
from core.api.pagination import CappedPagination
from oversight.api.serializers import (
    BulkResultOutputSerializer,
    ItemDeleteInputSerializer,
    ItemReviewSendInputSerializer,
)
from oversight.filtersets import ItemFilterSet
from oversight.selectors.items import item_browser_list
from oversight.services.items import BulkResult, items_delete, items_gold_check_set, items_review_send
from projects.access import ProjectAccess
from projects.api.serializers import ItemOutputSerializer
from projects.models import Item
from projects.permissions import Action
from projects.web import ProjectScopedMixin

# What the items endpoint reads besides its filters (the paginator's and DRF's; the filter backend knows them).
LIST_PARAMETERS = ("page", "page_size", "format")


class ItemFilterBackend(StrictFilterBackend):
    """The strict backend, with the FilterSet built for the viewer (blind labeling refuses some filters)."""

    def get_filterset_kwargs(self, request: Request, queryset: QuerySet[Any], view: Any) -> dict[str, Any]:
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        return {**kwargs, "access": view.get_access(), "also_known": LIST_PARAMETERS}


class ItemListApi(ProjectScopedMixin, ListAPIView[Item]):
    serializer_class = ItemOutputSerializer
    filterset_class = ItemFilterSet
    filter_backends = [ItemFilterBackend]
    pagination_class = CappedPagination  # a million items: counted up to 10,000 (core.pagination)
    _access: ProjectAccess | None = None

    def get_access(self, action: Action = Action.VIEW) -> ProjectAccess:
        if self._access is None:  # the queryset and the FilterSet both need it: one lookup
            self._access = super().get_access()
        self._access.require(action)
        return self._access

    def get_queryset(self) -> QuerySet[Item]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no project in the URL
            return Item.objects.none()
        return item_browser_list(project=self.get_access().project)

    @extend_schema(
        description="The project's items, filtered and sorted like the items page. Analysts may filter by "
        "text, external id, split and labeled only (blind labeling); an unknown parameter is a 400.",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class _ItemBulkApi(ProjectScopedMixin, APIView):
    """A bulk action on the items the query string's filters select (the items endpoint's filters)."""

    action = Action.REVIEW

    def selection(self) -> tuple[ProjectAccess, QuerySet[Item]]:
        access = self.get_access(self.action)
        items = item_browser_list(project=access.project)
        filterset = ItemFilterSet(self.request.query_params, queryset=items, access=access, also_known=())
        if not filterset.is_valid():
            raise exceptions.ValidationError(filterset.errors, code="invalid_filter")
        return access, filterset.qs

    @staticmethod
    def answer(result: BulkResult) -> Response:
        return Response(BulkResultOutputSerializer(result).data)


class ItemReviewSendApi(_ItemBulkApi):
    action = Action.REVIEW

    @extend_schema(
        request=ItemReviewSendInputSerializer, responses=BulkResultOutputSerializer,
        description="Sends the filtered items to the review queue (reason manual); items with a gold label, "
        "or already sent by hand and waiting, are left as they were. At most 10,000 items.",
    )  # fmt: skip
    def post(self, request: Request, slug: str) -> Response:
        access, items = self.selection()
        data = ItemReviewSendInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self.answer(items_review_send(project=access.project, items=items, **data.validated_data))


class ItemGoldCheckSetApi(_ItemBulkApi):
    action = Action.EDIT_PROJECT

    @extend_schema(
        request=None, responses=BulkResultOutputSerializer,
        description="Makes the gold labels of the filtered items gold checks; items without a gold label are "
        "left out. At most 10,000 items.",
    )  # fmt: skip
    def post(self, request: Request, slug: str) -> Response:
        access, items = self.selection()
        return self.answer(items_gold_check_set(project=access.project, items=items))


class ItemDeleteApi(_ItemBulkApi):
    action = Action.EDIT_PROJECT

    @extend_schema(
        request=ItemDeleteInputSerializer, responses=BulkResultOutputSerializer,
        description="Deletes the filtered items and everything about them, once `confirm` repeats their "
        "count (a 400 tells the count otherwise). At most 10,000 items.",
    )  # fmt: skip
    def post(self, request: Request, slug: str) -> Response:
        access, items = self.selection()
        data = ItemDeleteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self.answer(items_delete(project=access.project, items=items, **data.validated_data))
