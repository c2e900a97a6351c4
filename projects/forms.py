from __future__ import annotations

from typing import Any

from django import forms

from accounts.forms import AccountCreateForm
from projects.choices import ProjectKind, Role
from projects.services.label_keys import LabelKeys


class ProjectForm(forms.Form):
    name = forms.CharField(max_length=200)
    slug = forms.SlugField(
        max_length=100, required=False, help_text="Leave empty to derive it from the name."
    )
    labels = forms.CharField(
        help_text="Comma-separated label names, e.g. spam, ham (span projects: entity types, e.g. PER, LOC)."
    )
    kind = forms.ChoiceField(
        choices=[("", "One label per item (or several, with multi-label)"), *ProjectKind.choices],
        required=False, label="What analysts give",
    )  # fmt: skip
    multi_label = forms.BooleanField(required=False)
    allow_overlapping_spans = forms.BooleanField(
        required=False, help_text="Span projects: answers may hold nested or overlapping spans."
    )
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


class LabelKeysField(forms.MultipleChoiceField):
    """A choice of the project's label keys that follows the one key rule (projects.services.label_keys): a
    key given in another case or spelling is taken as the key it names; one that names none is refused."""

    def to_python(self, value: Any) -> list[str]:
        given = super().to_python(value)
        choices: Any = self.choices  # set at run time to the project's (key, name) pairs
        keys = LabelKeys(str(key) for key, _ in choices)
        return [keys.find(raw) or raw for raw in given]


# --- the label schema (Settings) -----------------------------------------------------------------------------


class LabelAddForm(forms.Form):
    key = forms.CharField(max_length=64, help_text="Stored with every answer; it never changes.")
    name = forms.CharField(max_length=200, required=False, help_text="Shown to people; default: the key.")
    hotkey = forms.CharField(max_length=1, required=False, strip=False)
    color = forms.RegexField(
        r"^#[0-9a-fA-F]{6}$", required=False, widget=forms.TextInput(attrs={"type": "color"})
    )


class LabelEditForm(forms.Form):
    name = forms.CharField(max_length=200)
    hotkey = forms.CharField(max_length=1, required=False, strip=False)
    color = forms.RegexField(r"^#[0-9a-fA-F]{6}$", widget=forms.TextInput(attrs={"type": "color"}))


class LabelMergeForm(forms.Form):
    into = forms.CharField(max_length=64)
