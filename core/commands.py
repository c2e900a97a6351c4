"""Helpers for management commands: turning a command-line argument into the object it names.

A command that cannot find what its argument names ends with a `CommandError` (exit status 1 and the message
on standard error), and every command says so in the same words: "No <noun> with the <field> '<value>'."
"""

from __future__ import annotations

from typing import TypeVar

from django.core.management.base import CommandError
from django.db.models import Model, QuerySet

ERROR_NO_SUCH_OBJECT = "No {noun} with the {field} '{value}'."

M = TypeVar("M", bound=Model)


def command_object_get(source: type[M] | QuerySet[M], *, field: str, value: object, noun: str) -> M:
    """The object of `source` (a model or a queryset) whose `field` is `value`, or a `CommandError` naming it."""
    queryset = source if isinstance(source, QuerySet) else source._default_manager.all()
    found = queryset.filter(**{field: value}).first()
    if found is None:
        raise CommandError(ERROR_NO_SUCH_OBJECT.format(noun=noun, field=field, value=value))
    return found
