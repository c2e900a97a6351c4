"""HTML input for active learning: the project's settings and the simulator."""

from __future__ import annotations

from typing import Any

from django import forms

from active_learning.choices import DEFAULT_STRATEGY, Strategy
from active_learning.models import LearnerSettings
from core.forms import choices_set


class LearnerSettingsForm(forms.ModelForm):
    class Meta:
        model = LearnerSettings
        fields = [
            "enabled", "strategy", "features", "retrain_every", "batch_size", "use_weak_labels",
            "weak_min_confidence", "show_suggestions",
        ]  # fmt: skip
        widgets = {"weak_min_confidence": forms.NumberInput(attrs={"step": "0.05", "min": "0", "max": "1"})}

    def clean_retrain_every(self) -> int:
        value: int = self.cleaned_data["retrain_every"]
        if value < 1:
            raise forms.ValidationError("Retrain after at least one new annotation.")
        return value

    def clean_batch_size(self) -> int:
        value: int = self.cleaned_data["batch_size"]
        if not 1 <= value <= 1000:
            raise forms.ValidationError("The batch holds between 1 and 1000 items.")
        return value

    def clean_weak_min_confidence(self) -> float:
        value: float = self.cleaned_data["weak_min_confidence"]
        if not 0.0 <= value <= 1.0:
            raise forms.ValidationError("A confidence is between 0 and 1.")
        return value


class SimulationForm(forms.Form):
    strategies = forms.MultipleChoiceField(
        choices=Strategy.choices, widget=forms.CheckboxSelectMultiple,
        initial=[DEFAULT_STRATEGY, Strategy.RANDOM],
    )  # fmt: skip
    budget = forms.IntegerField(min_value=1, initial=200, help_text="Labels to spend.")
    step = forms.IntegerField(min_value=1, initial=20, help_text="Labels between retrains.")
    seeds = forms.IntegerField(min_value=1, max_value=10, initial=3)
    metric = forms.ChoiceField(choices=[])

    def __init__(self, *args: Any, label_keys: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("accuracy", "accuracy"), ("macro_f1", "macro F1")]
        choices += [(f"f1:{key}", f"F1 of {key}") for key in label_keys]
        choices_set(self, "metric", choices)
