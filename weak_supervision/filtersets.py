"""The FilterSets of weak supervision's lists: labeling functions and label-model runs (core.filtersets)."""

from __future__ import annotations

import django_filters

from core.filtersets import BooleanFilter, FilterSet
from weak_supervision.choices import LabelingFunctionKind, RunStatus
from weak_supervision.models import LabelingFunction, LabelModelRun


class LabelingFunctionFilterSet(FilterSet):
    """Shared by the labeling functions page and endpoint."""

    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Name contains")
    kind = django_filters.ChoiceFilter(choices=LabelingFunctionKind.choices, empty_label="Any kind")
    active = BooleanFilter()

    class Meta:
        model = LabelingFunction
        fields = ["q", "kind", "active"]


class LabelModelRunFilterSet(FilterSet):
    """Shared by the runs page and the runs endpoint."""

    status = django_filters.ChoiceFilter(choices=RunStatus.choices, empty_label="Any status")

    class Meta:
        model = LabelModelRun
        fields = ["status"]
