"""The FilterSet of the API tokens list, the caller's own (core.filtersets)."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import ApiToken
from core.filtersets import BooleanFilter, FilterSet


class ApiTokenFilterSet(FilterSet):
    """Shared by the account page's token table and the tokens endpoint."""

    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Name contains")
    expired = BooleanFilter(method="filter_expired", label="Expired")

    class Meta:
        model = ApiToken
        fields = ["q", "expired"]

    def filter_expired(
        self, queryset: QuerySet[ApiToken], name: str, value: bool | None
    ) -> QuerySet[ApiToken]:
        if value is None:
            return queryset
        now = timezone.now()
        return queryset.filter(expires_at__lte=now) if value else queryset.filter(expires_at__gt=now)
