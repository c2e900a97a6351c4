from __future__ import annotations

from typing import Any

from django import forms

from core.forms import choices_set
from projects.forms import LabelKeysField


class ReviewDecideForm(forms.Form):
    item_id = forms.IntegerField(min_value=1)
    labels = LabelKeysField(choices=[], error_messages={"required": "Choose at least one label."})
    note = forms.CharField(required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
    use_as_check = forms.BooleanField(required=False)
    dwell_ms = forms.IntegerField(required=False, min_value=0, max_value=86_400_000)

    def __init__(self, *args: Any, label_keys: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices_set(self, "labels", [(key, key) for key in label_keys])


class ReviewPassForm(forms.Form):
    item_id = forms.IntegerField(min_value=1)


class KnownAnswersForm(forms.Form):
    answers = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8, "placeholder": "external_id,label\nmsg-17,spam\nmsg-42,ham"}),
        help_text="CSV with the columns external_id and label (several labels separated by |).",
    )
    is_check = forms.BooleanField(required=False, initial=True, label="Use them as gold checks")
