"""The FilterSets of the datasets app's lists: snapshots and export schedules (core.filtersets)."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from core.filtersets import BooleanFilter, FilterSet
from datasets.choices import ExportFormat, LabelPolicy, SnapshotStatus, Trigger
from datasets.models import ExportSchedule, Snapshot


class SnapshotFilterSet(FilterSet):
    """Shared by the datasets page and the snapshots endpoint."""

    status = django_filters.ChoiceFilter(choices=SnapshotStatus.choices, empty_label="Any status")
    # Not `format`: DRF reads that one as the renderer to answer with.
    file_format = django_filters.ChoiceFilter(
        choices=ExportFormat.choices, method="filter_format", empty_label="Any format", label="Has format"
    )
    trigger = django_filters.ChoiceFilter(choices=Trigger.choices, empty_label="Any trigger")
    policy = django_filters.ChoiceFilter(choices=LabelPolicy.choices, empty_label="Any policy")

    class Meta:
        model = Snapshot
        fields = ["status", "file_format", "trigger", "policy"]

    def filter_format(self, queryset: QuerySet[Snapshot], name: str, value: str) -> QuerySet[Snapshot]:
        # `formats` is a JSON list of names: its text holds the name in quotes (any database, unlike
        # JSON containment, which SQLite lacks); format names are plain words, none inside another's quotes.
        return queryset.filter(formats__icontains=f'"{value}"') if value else queryset


class ExportScheduleFilterSet(FilterSet):
    """Shared by the schedules page and the schedules endpoint."""

    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Name contains")
    enabled = BooleanFilter()
    policy = django_filters.ChoiceFilter(choices=LabelPolicy.choices, empty_label="Any policy")

    class Meta:
        model = ExportSchedule
        fields = ["q", "enabled", "policy"]
