import django_filters

from core.filtersets import BooleanFilter, FilterSet
from projects.choices import Role
from projects.models import Membership, Project


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
