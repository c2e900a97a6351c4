from __future__ import annotations

import json
from typing import Any

from django import forms

from core.forms import choices_set
from projects.forms import LabelKeysField

BULK_REVIEW = "review"
BULK_GOLD_CHECK = "gold_check"
BULK_DELETE = "delete"
BULK_ACTIONS = [
    (BULK_REVIEW, "Send to review"),
    (BULK_GOLD_CHECK, "Set as gold checks"),
    (BULK_DELETE, "Delete"),
]


class ReviewDecideForm(forms.Form):
    item_id = forms.IntegerField(min_value=1)
    labels = LabelKeysField(choices=[], error_messages={"required": "Choose at least one label."})
    note = forms.CharField(required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
    use_as_check = forms.BooleanField(required=False)
    dwell_ms = forms.IntegerField(required=False, min_value=0, max_value=86_400_000)

    def __init__(self, *args: Any, label_keys: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices_set(self, "labels", [(key, key) for key in label_keys])


ERROR_SPANS_JSON = "Give the spans as a JSON list ([] for no entities), or accept an answer."


class ReviewSpansDecideForm(forms.Form):
    """A span project's decision: accept one answer's spans (the button pressed sends `annotation_id`), or
    the spans as JSON (the list the page fills with the suggested spans, edited)."""

    item_id = forms.IntegerField(min_value=1)
    annotation_id = forms.IntegerField(required=False, min_value=1)
    spans = forms.CharField(required=False, strip=False, widget=forms.Textarea(attrs={"rows": 6}))
    note = forms.CharField(required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
    use_as_check = forms.BooleanField(required=False)
    dwell_ms = forms.IntegerField(required=False, min_value=0, max_value=86_400_000)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("annotation_id") is not None:
            data["spans"] = None  # the button pressed wins over the list beside it, read or not
            return data
        try:
            spans = json.loads(data.get("spans") or "")
        except json.JSONDecodeError:
            spans = None
        if not isinstance(spans, list):
            raise forms.ValidationError(ERROR_SPANS_JSON)
        data["spans"] = spans
        return data


class ReviewPassForm(forms.Form):
    item_id = forms.IntegerField(min_value=1)


class KnownAnswersForm(forms.Form):
    answers = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8, "placeholder": "external_id,label\nmsg-17,spam\nmsg-42,ham"}),
        help_text="CSV with the columns external_id and label (several labels separated by |).",
    )
    is_check = forms.BooleanField(required=False, initial=True, label="Use them as gold checks")


class ItemBulkForm(forms.Form):
    """A bulk action on the item browser's selection (the filters travel in the query string)."""

    action = forms.ChoiceField(choices=BULK_ACTIONS)
    note = forms.CharField(required=False, max_length=4000, label="Note for the reviewers")
    confirm = forms.IntegerField(
        required=False, min_value=0, help_text="Deleting: how many items it deletes."
    )
