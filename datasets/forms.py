"""HTML input for snapshots: the "make a snapshot" form and the "compare two versions" form."""

from __future__ import annotations

from typing import Any

from django import forms

from core.forms import choices_set
from datasets.choices import ExportFormat, LabelPolicy
from datasets.models import ExportSchedule
from datasets.services.snapshots import DEFAULT_FORMATS, ERROR_FEWSHOT, SnapshotRequest
from datasets.services.splits import SPLIT_RATIOS
from projects.choices import Split

SPLIT_CHOICES = [(value, label) for value, label in Split.choices if value in SPLIT_RATIOS]
MIN_CONFIDENCE_HELP = "gold+weak and inferred: keep weak or inferred labels at least this sure."
EXCLUDE_LABEL_ERRORS_LABEL = "Leave out suspected label errors"
EXCLUDE_LABEL_ERRORS_HELP = "The items the latest label-error scan flags as probably mislabeled."


def _sizes(raw: str) -> list[int]:
    """'8, 16,32' -> [8, 16, 32]; the service checks the range."""
    try:
        return [int(part) for part in raw.replace(" ", ",").split(",") if part.strip()]
    except ValueError as exc:
        raise forms.ValidationError(ERROR_FEWSHOT, code="fewshot_k") from exc


class SnapshotCreateForm(forms.Form):
    """What to export; `snapshot_request()` turns the cleaned data into the service's SnapshotRequest."""

    policy = forms.ChoiceField(choices=LabelPolicy.choices, initial=LabelPolicy.GOLD, label="Label policy")
    min_confidence = forms.FloatField(
        min_value=0.0, max_value=1.0, initial=0.8, required=False, help_text=MIN_CONFIDENCE_HELP
    )
    formats = forms.MultipleChoiceField(
        choices=ExportFormat.choices, initial=list(DEFAULT_FORMATS), widget=forms.CheckboxSelectMultiple
    )
    splits = forms.MultipleChoiceField(
        choices=SPLIT_CHOICES, required=False, widget=forms.CheckboxSelectMultiple,
        label="Only these splits", help_text="None ticked: every split.",
    )  # fmt: skip
    labels = forms.MultipleChoiceField(
        choices=[], required=False, widget=forms.CheckboxSelectMultiple,
        label="Only items with these labels", help_text="None ticked: every label.",
    )  # fmt: skip
    fewshot_k = forms.CharField(
        required=False, initial="8,16,32", label="Few-shot sizes",
        help_text="Examples per class in each few-shot support set, e.g. 8,16,32 (empty: none).",
    )  # fmt: skip
    exclude_label_errors = forms.BooleanField(
        required=False, label=EXCLUDE_LABEL_ERRORS_LABEL, help_text=EXCLUDE_LABEL_ERRORS_HELP
    )

    def __init__(self, *args: Any, label_keys: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices_set(self, "labels", [(key, key) for key in label_keys])

    def clean_fewshot_k(self) -> list[int]:
        return _sizes(self.cleaned_data["fewshot_k"])

    def snapshot_request(self) -> SnapshotRequest:
        data = self.cleaned_data
        confidence = data["min_confidence"]
        return SnapshotRequest(
            policy=data["policy"], min_confidence=0.8 if confidence is None else confidence,
            formats=list(data["formats"]), splits=list(data["splits"]), labels=list(data["labels"]),
            fewshot_k=data["fewshot_k"], exclude_label_errors=data["exclude_label_errors"],
        )  # fmt: skip


class SnapshotCompareForm(forms.Form):
    """Two versions to compare (?old=&new=)."""

    old = forms.IntegerField(min_value=1, label="Old version")
    new = forms.IntegerField(min_value=1, label="New version")

    def __init__(self, *args: Any, versions: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(version, f"v{version}") for version in versions]
        for name in ("old", "new"):
            self.fields[name].widget = forms.Select(choices=choices)


class ExportScheduleForm(forms.Form):
    """An export schedule: what to export, how often (every N hours or days, or a crontab in UTC) and how many
    versions to keep. The service checks the cadence and ranges, so both front doors give the same messages."""

    name = forms.CharField(max_length=200)
    policy = forms.ChoiceField(choices=LabelPolicy.choices, initial=LabelPolicy.GOLD, label="Label policy")
    min_confidence = forms.FloatField(
        min_value=0.0, max_value=1.0, initial=0.8, required=False, help_text=MIN_CONFIDENCE_HELP
    )
    formats = forms.MultipleChoiceField(
        choices=ExportFormat.choices, initial=list(DEFAULT_FORMATS), widget=forms.CheckboxSelectMultiple
    )
    exclude_label_errors = forms.BooleanField(
        required=False, label=EXCLUDE_LABEL_ERRORS_LABEL, help_text=EXCLUDE_LABEL_ERRORS_HELP
    )
    every = forms.IntegerField(required=False, label="Every", help_text="Run every N hours or days...")
    period = forms.ChoiceField(
        choices=ExportSchedule.Every.choices, initial=ExportSchedule.Every.DAYS, required=False
    )
    crontab = forms.CharField(
        max_length=100, required=False, label="...or on a crontab",
        help_text="'minute hour day month weekday' in UTC, e.g. 0 3 * * 1-5 (leave 'Every' empty).",
    )  # fmt: skip
    keep_last = forms.IntegerField(
        initial=10, label="Keep the last", help_text="Versions the schedule keeps; older ones go, with files."
    )

    @staticmethod
    def initial_from(schedule: ExportSchedule) -> dict[str, Any]:
        fields = ("name", "policy", "min_confidence", "formats", "exclude_label_errors", "every", "period",
                  "crontab", "keep_last")  # fmt: skip
        return {name: getattr(schedule, name) for name in fields}

    def schedule_fields(self) -> dict[str, Any]:
        """The cleaned data as the schedule services take it."""
        data = self.cleaned_data
        confidence = data["min_confidence"]
        request = SnapshotRequest(
            policy=data["policy"], min_confidence=0.8 if confidence is None else confidence,
            formats=list(data["formats"]), exclude_label_errors=data["exclude_label_errors"],
        )  # fmt: skip
        return {
            "name": data["name"], "request": request, "every": data["every"],
            "period": data["period"] or ExportSchedule.Every.DAYS, "crontab": data["crontab"],
            "keep_last": data["keep_last"],
        }  # fmt: skip
