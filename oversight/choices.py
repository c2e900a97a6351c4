from django.db import models


class ReviewReason(models.TextChoices):
    """Why an item is in the review queue; the order of REVIEW_REASON_PRIORITY decides what comes first."""

    ANALYST = "analyst", "Analyst sent to review"
    FLAG = "flag", "Flagged"
    DISAGREEMENT = "disagreement", "Annotators disagree"
    LABEL_MODEL = "label_model", "Label model unsure"
    AUDIT = "audit", "Random audit"
    MANUAL = "manual", "Sent by a reviewer"
    INFERRED_DIFFERS = "inferred_differs", "The inferred label differs from the annotators' majority"
    LOW_POSTERIOR = "low_posterior", "Low posterior"
    LABEL_ERROR = "label_error", "Likely label error"


REVIEW_REASON_PRIORITY: dict[str, int] = {
    ReviewReason.ANALYST: 60,
    ReviewReason.FLAG: 50,
    ReviewReason.DISAGREEMENT: 40,
    ReviewReason.MANUAL: 35,
    ReviewReason.LABEL_ERROR: 33,
    ReviewReason.INFERRED_DIFFERS: 32,
    ReviewReason.LABEL_MODEL: 30,
    ReviewReason.LOW_POSTERIOR: 20,
    ReviewReason.AUDIT: 10,
}


class JobStatus(models.TextChoices):
    """A truth-inference run's or a label-error scan's state."""

    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class JobTrigger(models.TextChoices):
    UI = "ui", "Browser"
    API = "api", "API"
    CLI = "cli", "Command line"
    ANSWERS = "answers", "New answers"


class SourceKind(models.TextChoices):
    """What kind of thing answers for an item in truth inference."""

    ANNOTATOR = "annotator", "Annotator"
    LABELING_FUNCTION = "lf", "Labeling function"
    EXTERNAL = "external", "External predictions"
    END_MODEL = "end_model", "End model"
    LEARNER = "learner", "Active learner"
