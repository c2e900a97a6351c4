from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django import forms

from core.forms import choices_set
from labeling.services.annotations import RationaleSpec
from projects.forms import LabelKeysField

# --- The labeling view ---------------------------------------------------------------------------------------

INPUT_METHOD_CHOICES = [("", "unknown"), ("hotkey", "hotkey"), ("click", "click")]


class _QueueActionForm(forms.Form):
    """What every labeling action carries: how the analyst acted and when, by the browser's clock."""

    input_method = forms.ChoiceField(choices=INPUT_METHOD_CHOICES, required=False)
    client_ts = forms.IntegerField(required=False, min_value=0, help_text="Milliseconds since the epoch.")

    def clean_client_ts(self) -> datetime | None:
        value = self.cleaned_data.get("client_ts")
        return datetime.fromtimestamp(value / 1000, tz=UTC) if value else None


class AnnotationSubmitForm(_QueueActionForm):
    item_id = forms.IntegerField(min_value=1)
    labels = LabelKeysField(choices=[], error_messages={"required": "Choose at least one label."})
    client_uuid = forms.UUIDField()
    lead_time_ms = forms.IntegerField(required=False, min_value=0, max_value=86_400_000)
    rationales = forms.JSONField(required=False)
    suggested_label = forms.CharField(required=False, max_length=64)

    def __init__(self, *args: Any, label_keys: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices_set(self, "labels", [(key, key) for key in label_keys])

    def clean_rationales(self) -> list[RationaleSpec]:
        raw = self.cleaned_data.get("rationales") or []
        if not isinstance(raw, list):
            raise forms.ValidationError("Rationales must be a list of spans.")
        try:
            return [
                RationaleSpec(
                    start=int(span["start"]),
                    end=int(span["end"]),
                    quote=str(span.get("quote", "")),
                    label=str(span.get("label", "")),
                )
                for span in raw
            ]
        except (TypeError, KeyError, ValueError) as exc:
            raise forms.ValidationError("Each rationale needs integer start and end offsets.") from exc


class SpanSubmitForm(_QueueActionForm):
    """A span project's answer from the labeling view: the spans as JSON (labeling.js and spans.js fill it)."""

    item_id = forms.IntegerField(min_value=1)
    spans = forms.JSONField(required=False)  # "[]" is an answer (no entities); a missing field is not
    spans_suggested = forms.BooleanField(required=False, help_text="The model's spans were pre-filled.")
    client_uuid = forms.UUIDField()
    lead_time_ms = forms.IntegerField(required=False, min_value=0, max_value=86_400_000)

    def clean_spans(self) -> list[Any]:
        raw = self.cleaned_data.get("spans")
        if "spans" not in self.data:
            raise forms.ValidationError("The answer's spans are missing.")
        if not isinstance(raw, list):
            raise forms.ValidationError("Spans must be a list of objects with start, end and label.")
        return raw


class QueueSkipForm(_QueueActionForm):
    item_id = forms.IntegerField(min_value=1)
    dwell_ms = forms.IntegerField(required=False, min_value=0, max_value=86_400_000)


class QueueUndoForm(_QueueActionForm):
    pass


class FlagForm(_QueueActionForm):
    item_id = forms.IntegerField(min_value=1)
    comment = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
