"""Small helpers for Django forms shared by the apps' pages."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms


def choices_set(form: forms.BaseForm, name: str, choices: Iterable[tuple[str, str]]) -> None:
    """Sets the choices of a form's choice field at run time (e.g. a project's label keys)."""
    field = form.fields[name]
    if not isinstance(field, forms.ChoiceField):
        raise TypeError(f"{name} is not a choice field")
    field.choices = list(choices)
