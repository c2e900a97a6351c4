import django_filters
from django.db.models import Q, QuerySet

from core.filtersets import BooleanFilter, FilterSet
from projects.choices import Role, Split
from projects.models import Item, Membership, Project


class ProjectFilterSet(FilterSet):
    """Shared by the project list page and the projects endpoint."""

    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Name contains")
    multi_label = BooleanFilter()

    class Meta:
        model = Project
        fields = ["q", "multi_label"]


class MembershipFilterSet(FilterSet):
    """Shared by the members page and the members endpoint."""

    role = django_filters.ChoiceFilter(choices=Role.choices, empty_label="Any role")
    q = django_filters.CharFilter(
        field_name="user__username", lookup_expr="icontains", label="Username contains"
    )

    class Meta:
        model = Membership
        fields = ["role", "q"]


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
