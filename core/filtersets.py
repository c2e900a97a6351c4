"""The base of every FilterSet: a number that filters an integer column must be a whole number that the column
can hold, so that `?item=99999999999999999999` is a 400 naming the filter, never a database error (SQLite
raises OverflowError binding it; PostgreSQL compares it as numeric).

django-filter's NumberFilter parses with a DecimalField whatever the column; here the filters on integer
columns (declared or generated from Meta.fields, foreign keys included) parse with an IntegerField bounded
by the column's range instead.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from typing import Any

import django_filters
from django import forms
from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations
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
