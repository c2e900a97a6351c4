"""The FilterSets of active learning's lists: learner models and simulations (core.filtersets)."""

from __future__ import annotations

import django_filters

from active_learning.choices import ModelStatus, SimulationStatus, Strategy, Trigger
from active_learning.models import LearnerModel, Simulation
from core.filtersets import FilterSet


class LearnerModelFilterSet(FilterSet):
    """Shared by the active-learning page's model table and the models endpoint."""

    status = django_filters.ChoiceFilter(choices=ModelStatus.choices, empty_label="Any status")
    trigger = django_filters.ChoiceFilter(choices=Trigger.choices, empty_label="Any trigger")
    strategy = django_filters.ChoiceFilter(choices=Strategy.choices, empty_label="Any strategy")

    class Meta:
        model = LearnerModel
        fields = ["status", "trigger", "strategy"]


class SimulationFilterSet(FilterSet):
    """Shared by the active-learning page's simulations and the simulations endpoint."""

    status = django_filters.ChoiceFilter(choices=SimulationStatus.choices, empty_label="Any status")

    class Meta:
        model = Simulation
        fields = ["status"]
