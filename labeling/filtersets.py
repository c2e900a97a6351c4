import django_filters
from django.db.models import Q, QuerySet

from core.filtersets import FilterSet
from labeling.choices import EventType, ImportStatus, Split
from labeling.models import ImportJob, InteractionEvent, Item


class ItemFilterSet(FilterSet):
    """Shared by the item list page and the items endpoint."""

    q = django_filters.CharFilter(field_name="text", lookup_expr="icontains", label="Text contains")
    external_id = django_filters.CharFilter()
    split = django_filters.ChoiceFilter(choices=Split.choices, empty_label="Any split")
    labeled = django_filters.BooleanFilter(method="filter_labeled", label="Has annotations")

    class Meta:
        model = Item
        fields = ["q", "external_id", "split", "labeled"]

    def filter_labeled(self, queryset: QuerySet[Item], name: str, value: bool | None) -> QuerySet[Item]:
        if value is None:
            return queryset
        # `annotation_count` is annotated by selectors.item_list; Q keeps the type checker out of it.
        return queryset.filter(Q(annotation_count__gt=0) if value else Q(annotation_count=0))


class ImportJobFilterSet(FilterSet):
    status = django_filters.ChoiceFilter(choices=ImportStatus.choices)

    class Meta:
        model = ImportJob
        fields = ["status", "format"]


class InteractionEventFilterSet(FilterSet):
    """Shared by the events endpoint and its export."""

    type = django_filters.MultipleChoiceFilter(choices=EventType.choices)
    user = django_filters.NumberFilter(field_name="user_id")
    item = django_filters.NumberFilter(field_name="item_id")
    since = django_filters.IsoDateTimeFilter(field_name="server_ts", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="server_ts", lookup_expr="lt")

    class Meta:
        model = InteractionEvent
        fields = ["type", "user", "item", "since", "until"]
