"""The FilterSets of the review app's lists: review requests and gold labels (core.filtersets)."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from core.filtersets import BooleanFilter, FilterSet
from labeling.choices import GoldSource
from labeling.models import GoldLabel
from oversight.models import ReviewRequest


class ReviewRequestFilterSet(FilterSet):
    """The review requests endpoint's; without `status` it lists the open requests."""

    status = django_filters.ChoiceFilter(
        choices=ReviewRequest.Status.choices, empty_label="Open", help_text="Default: open"
    )
    item = django_filters.NumberFilter(field_name="item_id")

    class Meta:
        model = ReviewRequest
        fields = ["status", "item"]

    def filter_queryset(self, queryset: QuerySet[ReviewRequest]) -> QuerySet[ReviewRequest]:
        if not self.form.cleaned_data.get("status"):
            queryset = queryset.filter(status=ReviewRequest.Status.OPEN)
        filtered: QuerySet[ReviewRequest] = super().filter_queryset(queryset)
        return filtered


class GoldLabelFilterSet(FilterSet):
    """Shared by the gold labels page and the gold labels endpoint."""

    source = django_filters.ChoiceFilter(choices=GoldSource.choices, empty_label="Any source")
    is_check = BooleanFilter(label="Gold check")
    item = django_filters.NumberFilter(field_name="item_id")

    class Meta:
        model = GoldLabel
        fields = ["source", "is_check", "item"]
