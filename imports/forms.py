from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from imports.parsing.rows import ON_DUPLICATE_CHOICES, ON_DUPLICATE_FAIL
from imports.services.pipeline import delimiter_parse, eval_only_splits_parse
from projects.choices import ImportFormat, OnConflict


def _csv_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class ImportForm(forms.Form):
    file = forms.FileField(help_text="CSV, TSV, JSONL, JSON array, Parquet, or a WRENCH folder as .zip.")
    format = forms.ChoiceField(choices=[("", "From the file name"), *ImportFormat.choices], required=False)
    text_field = forms.CharField(initial="text")
    id_field = forms.CharField(required=False, help_text="Empty: the row number is the id.")
    label_field = forms.CharField(required=False, help_text="Existing labels become imported annotations.")
    split_field = forms.CharField(required=False)
    annotator_field = forms.CharField(required=False)
    metadata_fields = forms.CharField(
        required=False, help_text="Comma-separated; empty keeps all other fields."
    )
    label_map = forms.CharField(required=False, help_text="e.g. 0=ham, 1=spam")
    delimiter = forms.CharField(
        required=False, max_length=16, strip=False,
        help_text="CSV only: one character, or tab, comma, semicolon, pipe or space.",
    )  # fmt: skip
    has_header = forms.BooleanField(required=False, initial=True, label="First row is a header")
    columns = forms.CharField(
        required=False, help_text="Column names when there is no header, comma-separated."
    )
    on_conflict = forms.ChoiceField(choices=OnConflict.choices, initial=OnConflict.SKIP)
    on_duplicate = forms.ChoiceField(
        choices=[(choice, choice) for choice in ON_DUPLICATE_CHOICES], initial=ON_DUPLICATE_FAIL,
        required=False, label="Ids repeated in the file",
        help_text="fail: refuse the file at the repeated id's line; skip: keep the first row with each id.",
    )  # fmt: skip
    tag_scheme = forms.ChoiceField(
        choices=[("", "Detect it"), ("bio", "BIO"), ("iob1", "IOB1")], required=False, label="CoNLL tag scheme",
        help_text="Span projects: how a CoNLL file's tags are written. Detected: a file in which no B- tag opens "
        "a span is IOB1.",
    )  # fmt: skip
    eval_only_splits = forms.CharField(
        required=False, label="Evaluation-only splits",
        help_text="Splits whose labels only score, never train or choose anything: comma-separated train, valid, "
        "test, or none. Empty: the format's default (a WRENCH folder: train,test; other formats: none).",
    )  # fmt: skip

    def clean_delimiter(self) -> str:
        try:
            return delimiter_parse(str(self.cleaned_data["delimiter"]))
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages[0], code="delimiter") from exc

    def clean_on_duplicate(self) -> str:
        return str(self.cleaned_data["on_duplicate"] or ON_DUPLICATE_FAIL)

    def clean_label_map(self) -> dict[str, str]:
        mapping: dict[str, str] = {}
        for pair in _csv_list(self.cleaned_data["label_map"]):
            raw, sep, label = pair.partition("=")
            if not sep or not raw.strip() or not label.strip():
                raise forms.ValidationError(f"'{pair}' is not of the form value=label.")
            mapping[raw.strip()] = label.strip()
        return mapping

    def clean_metadata_fields(self) -> list[str]:
        return _csv_list(self.cleaned_data["metadata_fields"])

    def clean_columns(self) -> list[str]:
        return _csv_list(self.cleaned_data["columns"])

    def clean_eval_only_splits(self) -> list[str] | None:
        try:
            return eval_only_splits_parse(self.cleaned_data["eval_only_splits"])
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages[0], code="eval_only_splits") from exc

    def import_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("file")
        return data
