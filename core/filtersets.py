"""The base of every FilterSet: a number that filters an integer column must be a whole number that the column
can hold, so that `?item=99999999999999999999` is a 400 naming the filter, never a database error (SQLite
raises OverflowError binding it; PostgreSQL compares it as numeric).

django-filter's NumberFilter parses with a DecimalField whatever the column; here the filters on integer
columns (declared or generated from Meta.fields, foreign keys included) parse with an IntegerField bounded
by the column's range instead.

One FilterSet per listable model serves its page and its API list alike, so that `?status=failed` means the
same through both doors; a refused value is a 400 naming the filter on the API and, on the page, a 200 that
shows the error on the filter form and lists no rows (`filterset_rows`).
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import QuerySet
from django_filters.utils import get_model_field

INTEGER_RANGES: dict[str, tuple[int, int]] = BaseDatabaseOperations.integer_field_ranges


def integer_range(field: models.Field[Any, Any] | None) -> tuple[int, int] | None:
    """The values an integer column (or a foreign key to one) can hold; None for other columns."""
    if isinstance(field, models.ForeignKey):
        field = field.target_field
    if field is None:
        return None
    return INTEGER_RANGES.get(field.get_internal_type())


def integer_filter(
    number_filter: django_filters.NumberFilter, bounds: tuple[int, int]
) -> django_filters.Filter:
    """A copy of the filter that takes only whole numbers within the bounds."""
    bounded = copy.deepcopy(number_filter)
    bounded.field_class = forms.IntegerField
    bounded.extra.setdefault("min_value", bounds[0])
    bounded.extra.setdefault("max_value", bounds[1])
    return bounded


class StrictBooleanField(forms.Field):
    """`true` or `false` (`1`/`0`, any case); another value is refused where Django's reads it as no answer."""

    widget = forms.Select(choices=[("", "Any"), ("true", "Yes"), ("false", "No")])
    default_error_messages = {"invalid": "Enter true or false."}
    TRUE = frozenset({"true", "1"})
    FALSE = frozenset({"false", "0"})

    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        text = str(value).lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValidationError(self.error_messages["invalid"], code="invalid")


class BooleanFilter(django_filters.BooleanFilter):
    """A yes/no filter that refuses other values (a 400 on the API), where django-filter's ignores them."""

    field_class = StrictBooleanField


class FilterSet(django_filters.FilterSet):
    @classmethod
    def get_filters(cls) -> OrderedDict[str, django_filters.Filter]:
        filters: OrderedDict[str, django_filters.Filter] = super().get_filters()
        model = cls._meta.model
        if model is None:
            return filters
        for name, number_filter in filters.items():
            # Only plain number filters: ranges and "in" lists (CSV filters) parse their parts themselves.
            if type(number_filter) is not django_filters.NumberFilter or not number_filter.field_name:
                continue
            bounds = integer_range(get_model_field(model, number_filter.field_name))
            if bounds is not None:
                filters[name] = integer_filter(number_filter, bounds)
        return filters


def filterset_rows(filterset: django_filters.FilterSet) -> QuerySet[Any]:
    """The rows a page lists: all of them unfiltered, the filtered ones, or none when a value is refused."""
    if filterset.is_bound and not filterset.is_valid():
        rows: QuerySet[Any] = filterset.queryset.none()
        return rows
    filtered: QuerySet[Any] = filterset.qs
    return filtered
