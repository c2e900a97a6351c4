from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.models import TimeStampedModel
from projects.models import Item, Project


class ReviewRequest(TimeStampedModel):
    """An item that needs a reviewer's decision, with every reason it was sent; one open request per item.

    A reviewer claims it (until `claimed_until`) while deciding, so two reviewers never get the same item.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="review_requests")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="review_requests")
    reasons = models.JSONField(default=list, help_text="ReviewReason values, most important first.")
    detail = models.JSONField(default=dict, blank=True, help_text="Per reason: what triggered it.")
    priority = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_until = models.DateTimeField(null=True, blank=True)
    passed_by = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", db_table="labeling_reviewrequest_passed_by"
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "labeling_reviewrequest"  # kept from the app it lived in before (no table moves)
        ordering = ["-priority", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["item"], condition=Q(status="open"), name="review_request_one_open_per_item"
            )
        ]
        indexes = [
            models.Index(
                "project", models.F("priority").desc(), "id", name="review_queue", condition=Q(status="open")
            ),
        ]

    def __str__(self) -> str:
        return f"review {self.item_id} ({self.status}: {','.join(self.reasons)})"
