from __future__ import annotations

import json
from typing import Any

from django import forms

from core.forms import choices_set
from weak_supervision.choices import KeywordMode, LabelingFunctionKind, MetadataOperator

PYTHON_TEMPLATE = "\n".join([
    "def label(item):",
    "    # item.text, item.metadata; return a label key, or None to abstain",
    "    return None",
    "",
])  # fmt: skip
PYTHON_SPANS_TEMPLATE = "\n".join([
    "def label(item):",
    "    # item.text, item.metadata; return a list of (start, end, type) or None",
    "    return []",
    "",
])  # fmt: skip
KIND_CHOICES = [(k, v) for k, v in LabelingFunctionKind.choices if k != LabelingFunctionKind.EXTERNAL]


def _words(raw: str) -> list[str]:
    return [word.strip() for line in raw.splitlines() for word in line.split(",") if word.strip()]


def _value(raw: str, operator: str) -> Any:
    """Metadata values: JSON where it parses (numbers, true, lists), else the text; 'in' takes a, b, c."""
    raw = raw.strip()
    if operator == MetadataOperator.IN and not raw.startswith("["):
        return _words(raw)
    try:
        return json.loads(raw)
    except ValueError:
        return raw


class LabelingFunctionForm(forms.Form):
    """One form for the three declarative kinds; `spec()` keeps the fields of the chosen kind."""

    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=KIND_CHOICES)
    label = forms.ChoiceField(
        choices=[], required=False, help_text="The label a rule votes for when it fires (not for Python)."
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    keywords = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                               help_text="Keyword rules: one per line or comma-separated.")  # fmt: skip
    mode = forms.ChoiceField(choices=KeywordMode.choices, required=False, initial=KeywordMode.ANY)
    whole_words = forms.BooleanField(required=False, initial=True)
    case_sensitive = forms.BooleanField(required=False)
    pattern = forms.CharField(required=False, help_text="Regex rules: a Python regular expression.")
    group = forms.IntegerField(
        required=False, min_value=0,
        help_text="Span projects: the capture group whose text is the entity (blank: 1 where the pattern has a "
        "group, else the whole match).",
    )  # fmt: skip
    field = forms.CharField(required=False, help_text="Metadata rules: the field (dots reach into objects).")
    operator = forms.ChoiceField(
        choices=MetadataOperator.choices, required=False, initial=MetadataOperator.EQ
    )
    value = forms.CharField(required=False, help_text="JSON, or text; for 'is one of', comma-separated.")
    code = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 10, "class": "code", "spellcheck": "false"}),
        initial=PYTHON_TEMPLATE,
        help_text="Python LFs: runs sandboxed (no files, network or processes; imports: re, math, string, "
        "collections, json and a few more).",
    )

    def __init__(self, *args: Any, label_keys: list[str], spans: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices_set(self, "label", [(key, key) for key in label_keys])
        if spans:  # a span LF marks stretches of text with an entity type: no metadata rules
            choices_set(self, "kind", [(k, v) for k, v in KIND_CHOICES if k != LabelingFunctionKind.METADATA])
            self.fields["label"].help_text = "The entity type the rule marks (not for Python)."
            self.fields[
                "keywords"
            ].help_text = "Gazetteer: the terms to mark, one per line or comma-separated."
            self.fields["code"].initial = PYTHON_SPANS_TEMPLATE

    def spec(self) -> dict[str, Any]:
        data = self.cleaned_data
        if data["kind"] == LabelingFunctionKind.KEYWORD:
            return {"keywords": _words(data["keywords"]), "mode": data["mode"] or KeywordMode.ANY,
                    "whole_words": data["whole_words"], "case_sensitive": data["case_sensitive"]}  # fmt: skip
        if data["kind"] == LabelingFunctionKind.PYTHON:
            return {"code": data["code"]}
        if data["kind"] == LabelingFunctionKind.REGEX:
            spec = {"pattern": data["pattern"], "case_sensitive": data["case_sensitive"]}
            return spec if data.get("group") is None else {**spec, "group": data["group"]}
        operator = data["operator"] or MetadataOperator.EQ
        return {"field": data["field"], "operator": operator, "value": _value(data["value"], operator)}

    @staticmethod
    def initial_from(lf: Any) -> dict[str, Any]:
        version = lf.current_version
        spec = dict(version.spec) if version else {}
        initial = {"name": lf.name, "kind": lf.kind, "label": version.label if version else "",
                   "description": lf.description, **spec}  # fmt: skip
        if "keywords" in spec:
            initial["keywords"] = "\n".join(spec["keywords"])
        if "value" in spec:
            initial["value"] = spec["value"] if isinstance(spec["value"], str) else json.dumps(spec["value"])
        return initial
