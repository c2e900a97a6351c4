from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django import forms

from accounts.forms import AccountCreateForm
from labeling.choices import ImportFormat, OnConflict, Role
from labeling.services.annotations import RationaleSpec


class ProjectForm(forms.Form):
    name = forms.CharField(max_length=200)
    slug = forms.SlugField(
        max_length=100, required=False, help_text="Leave empty to derive it from the name."
    )
    labels = forms.CharField(help_text="Comma-separated label names, e.g. spam, ham.")
    multi_label = forms.BooleanField(required=False)
    overlap = forms.IntegerField(min_value=1, max_value=20, initial=1)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    instructions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}), required=False, help_text="Markdown, shown to analysts."
    )

    def clean_labels(self) -> list[str]:
        return [part.strip() for part in self.cleaned_data["labels"].split(",") if part.strip()]


class MembershipForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.ANALYST)


class MembershipRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class MemberAccountForm(AccountCreateForm):
    """A new account, made a member at once; its owner sets the password through a one-time link."""

    role = forms.ChoiceField(choices=Role.choices, initial=Role.ANALYST)


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
    delimiter = forms.CharField(required=False, max_length=3, help_text="CSV only; \\t for tab.")
    has_header = forms.BooleanField(required=False, initial=True, label="First row is a header")
    columns = forms.CharField(
        required=False, help_text="Column names when there is no header, comma-separated."
    )
    on_conflict = forms.ChoiceField(choices=OnConflict.choices, initial=OnConflict.SKIP)

    def clean_delimiter(self) -> str:
        raw = str(self.cleaned_data["delimiter"])
        value = {"\\t": "\t", "tab": "\t"}.get(raw, raw)
        if len(value) > 1:
            raise forms.ValidationError("A delimiter is one character (use \\t for tab).")
        return value

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

    def import_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("file")
        return data


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
    labels = forms.MultipleChoiceField(choices=[], error_messages={"required": "Choose at least one label."})
    client_uuid = forms.UUIDField()
    lead_time_ms = forms.IntegerField(required=False, min_value=0, max_value=86_400_000)
    rationales = forms.JSONField(required=False)
    suggested_label = forms.CharField(required=False, max_length=64)

    def __init__(self, *args: Any, label_keys: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["labels"].choices = [(key, key) for key in label_keys]  # type: ignore[attr-defined]

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


class QueueSkipForm(_QueueActionForm):
    item_id = forms.IntegerField(min_value=1)
    dwell_ms = forms.IntegerField(required=False, min_value=0, max_value=86_400_000)


class QueueUndoForm(_QueueActionForm):
    pass


class FlagForm(_QueueActionForm):
    item_id = forms.IntegerField(min_value=1)
    comment = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ProjectSettingsForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    instructions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 10}), required=False, help_text="Markdown, shown to analysts."
    )
    overlap = forms.IntegerField(min_value=1, max_value=20, help_text="Annotations wanted per item.")
    lease_seconds = forms.IntegerField(
        min_value=10, max_value=86_400, label="Lease (seconds)",
        help_text="How long an item handed to an analyst stays reserved for them.",
    )  # fmt: skip
    gold_check_rate = forms.FloatField(
        required=False, min_value=0, max_value=0.5, label="Gold-check rate",
        help_text="Share of hand-outs that are gold checks (items with a known answer); 0 turns them off.",
    )  # fmt: skip
    gold_accuracy_threshold = forms.FloatField(
        required=False, min_value=0, max_value=1, label="Gold-check accuracy threshold",
        help_text="Analysts whose accuracy on gold checks is below this are flagged to owners.",
    )  # fmt: skip
    gold_min_checks = forms.IntegerField(
        required=False, min_value=1, max_value=1000, label="Checks before flagging",
        help_text="Gold checks an analyst must have answered before they can be flagged.",
    )  # fmt: skip
    gold_auto_review = forms.BooleanField(
        required=False, label="Send a flagged analyst's labels to review automatically"
    )
    review_audit_rate = forms.FloatField(
        required=False, min_value=0, max_value=1, label="Audit rate",
        help_text="Share of labeled items drawn at random into the review queue.",
    )  # fmt: skip
    review_confidence_threshold = forms.FloatField(
        required=False, min_value=0, max_value=1, label="Label-model confidence for review",
        help_text="Items the label model is less sure of than this go to review after a run.",
    )  # fmt: skip
    analysts_see_suggestions = forms.BooleanField(
        required=False, label="Analysts see the model's suggestion while labeling",
        help_text="Where active learning shows suggestions. Off: analysts label blind to every model; they "
        "never see others' answers, LF votes or the label model's answer either way.",
    )  # fmt: skip


class ReviewDecideForm(forms.Form):
    item_id = forms.IntegerField(min_value=1)
    labels = forms.MultipleChoiceField(choices=[], error_messages={"required": "Choose at least one label."})
    note = forms.CharField(required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
    use_as_check = forms.BooleanField(required=False)
    dwell_ms = forms.IntegerField(required=False, min_value=0, max_value=86_400_000)

    def __init__(self, *args: Any, label_keys: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["labels"].choices = [(key, key) for key in label_keys]  # type: ignore[attr-defined]


class ReviewPassForm(forms.Form):
    item_id = forms.IntegerField(min_value=1)


class KnownAnswersForm(forms.Form):
    answers = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8, "placeholder": "external_id,label\nmsg-17,spam\nmsg-42,ham"}),
        help_text="CSV with the columns external_id and label (several labels separated by |).",
    )
    is_check = forms.BooleanField(required=False, initial=True, label="Use them as gold checks")
