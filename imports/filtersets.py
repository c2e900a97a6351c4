import django_filters

from core.filtersets import FilterSet
from projects.choices import ImportFormat, ImportStatus
from projects.models import ImportJob


class ImportJobFilterSet(FilterSet):
    """Shared by the import page and the imports endpoint."""

    status = django_filters.ChoiceFilter(choices=ImportStatus.choices, empty_label="Any status")
    # Not `format`, which DRF reads as the renderer to answer with (`?format=csv` was a 404 on the API).
    file_format = django_filters.ChoiceFilter(
        field_name="format", choices=ImportFormat.choices, empty_label="Any format", label="Format"
    )

    class Meta:
        model = ImportJob
        fields = ["status", "file_format"]
