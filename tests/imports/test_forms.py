"""The import form: delimiters by name, and what a repeated id does."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from imports.forms import ImportForm


def _form(**data: str) -> ImportForm:
    upload = SimpleUploadedFile("items.csv", b"text\nhello\n", content_type="text/csv")
    return ImportForm(data={"text_field": "text", "on_conflict": "skip", **data}, files={"file": upload})


@pytest.mark.parametrize(
    ("value", "delimiter"),
    [("tab", "\t"), ("Tab", "\t"), ("\\t", "\t"), ("semicolon", ";"), ("pipe", "|"), ("comma", ","), (";", ";"),
     ("", "")],
)  # fmt: skip
def test_the_form_reads_delimiters_by_name(value: str, delimiter: str) -> None:
    form = _form(delimiter=value)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["delimiter"] == delimiter


def test_the_form_refuses_an_unknown_delimiter_name() -> None:
    form = _form(delimiter="colon")
    assert not form.is_valid()
    assert form.errors["delimiter"] == [
        "A delimiter is one character, or one of: tab, comma, semicolon, pipe, space (got 'colon')."
    ]


@pytest.mark.parametrize(("value", "on_duplicate"), [("", "fail"), ("fail", "fail"), ("skip", "skip")])
def test_the_form_fails_on_a_repeated_id_unless_told_to_skip(value: str, on_duplicate: str) -> None:
    form = _form(on_duplicate=value)
    assert form.is_valid(), form.errors
    assert form.import_fields()["on_duplicate"] == on_duplicate
