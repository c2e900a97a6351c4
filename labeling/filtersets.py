import django_filters

from core.filtersets import FilterSet
from labeling.choices import EventType
from labeling.models import InteractionEvent


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
