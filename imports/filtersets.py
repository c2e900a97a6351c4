import django_filters

from core.filtersets import FilterSet
from projects.choices import ImportFormat, ImportStatus
from projects.models import ImportJob


class ImportJobFilterSet(FilterSet):
    """Shared by the import page and the imports endpoint."""

    status = django_filters.ChoiceFilter(choices=ImportStatus.choices, empty_label="Any status")
    format = django_filters.ChoiceFilter(choices=ImportFormat.choices, empty_label="Any format")

    class Meta:
        model = ImportJob
        fields = ["status", "format"]
