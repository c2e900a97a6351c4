"""The filter backend of every list endpoint: django-filter's, refusing query parameters the list does not know.

A misspelt filter (`?itme=5`) silently answered with the whole list looks like a result; here it is a 400
naming the parameter and the ones the list takes. The list's FilterSet, its paginator's parameters, DRF's
`format` and whatever the view lists in `query_params` (parameters it reads itself) are known.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions
from rest_framework.mixins import ListModelMixin
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.views import APIView

UNKNOWN_FILTER = "Unknown filter. This list takes: {known}."
PAGINATION_PARAMETERS = (
    "page_query_param",
    "page_size_query_param",
    "limit_query_param",
    "offset_query_param",
)


def known_query_parameters(view: APIView, filterset_filters: list[str]) -> list[str]:
    """Every query parameter the list endpoint reads, in the order a reader expects them."""
    paginator = getattr(view, "paginator", None)
    paging = [getattr(paginator, attribute, None) for attribute in PAGINATION_PARAMETERS]
    extra = list(getattr(view, "query_params", ()))
    names = [*filterset_filters, *extra, *(name for name in paging if name), api_settings.URL_FORMAT_OVERRIDE]
    return list(dict.fromkeys(name for name in names if name))


class StrictFilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: APIView) -> QuerySet[Any]:
        if not isinstance(view, ListModelMixin):  # a detail endpoint's lookup: no filters to check
            return super().filter_queryset(request, queryset, view)
        filterset_class = self.get_filterset_class(view, queryset)
        filters = list(filterset_class.base_filters) if filterset_class is not None else []
        known = known_query_parameters(view, filters)
        unknown = [name for name in request.query_params if name not in known]
        if unknown:
            message = UNKNOWN_FILTER.format(known=", ".join(known))
            raise exceptions.ValidationError({name: [message] for name in unknown}, code="unknown_filter")
        filtered: QuerySet[Model] = super().filter_queryset(request, queryset, view)
        return filtered
