from __future__ import annotations

from django.db import models

from core.models import TimeStampedModel
from labeling.models import Item, Label, Project
from weak_supervision.choices import LabelingFunctionKind


class LabelingFunction(TimeStampedModel):
    """A source of votes on items. External LFs carry votes computed outside Oversight (e.g. WRENCH)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="labeling_functions")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=LabelingFunctionKind.choices)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["project_id", "name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="lf_unique_name")]

    def __str__(self) -> str:
        return f"{self.project_id}:{self.name}"


class ExternalVote(models.Model):
    """A non-abstaining vote of an external LF on one item (abstentions are not stored)."""

    labeling_function = models.ForeignKey(LabelingFunction, on_delete=models.CASCADE, related_name="votes")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="external_votes")
    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["labeling_function", "item"], name="external_vote_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.labeling_function_id} votes {self.label_id} on {self.item_id}"
