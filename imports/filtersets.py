import django_filters

from core.filtersets import FilterSet
from projects.choices import ImportStatus
from projects.models import ImportJob


class ImportJobFilterSet(FilterSet):
    status = django_filters.ChoiceFilter(choices=ImportStatus.choices)

    class Meta:
        model = ImportJob
        fields = ["status", "format"]
