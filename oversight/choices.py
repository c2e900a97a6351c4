from django.db import models


class ReviewReason(models.TextChoices):
    """Why an item is in the review queue; the order of REVIEW_REASON_PRIORITY decides what comes first."""

    ANALYST = "analyst", "Analyst sent to review"
    FLAG = "flag", "Flagged"
    DISAGREEMENT = "disagreement", "Annotators disagree"
    LABEL_MODEL = "label_model", "Label model unsure"
    AUDIT = "audit", "Random audit"
    MANUAL = "manual", "Sent by a reviewer"


REVIEW_REASON_PRIORITY: dict[str, int] = {
    ReviewReason.ANALYST: 60,
    ReviewReason.FLAG: 50,
    ReviewReason.DISAGREEMENT: 40,
    ReviewReason.MANUAL: 35,
    ReviewReason.LABEL_MODEL: 30,
    ReviewReason.AUDIT: 10,
}
