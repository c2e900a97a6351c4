from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    DATA_SCIENTIST = "data_scientist", "Data scientist"
    REVIEWER = "reviewer", "Reviewer"
    ANALYST = "analyst", "Analyst"


class Split(models.TextChoices):
    NONE = "", "None"
    TRAIN = "train", "Train"
    VALID = "valid", "Validation"
    TEST = "test", "Test"


class AnnotationSource(models.TextChoices):
    HUMAN = "human", "Human"
    IMPORT = "import", "Imported"


class EventType(models.TextChoices):
    VIEW = "view", "View"
    SUBMIT = "submit", "Submit"
    CHANGE = "change", "Change"
    SKIP = "skip", "Skip"
    UNDO = "undo", "Undo"
    FLAG = "flag", "Flag"
    RATIONALE = "rationale", "Rationale"
    SUGGESTION_SHOWN = "suggestion_shown", "Suggestion shown"
    SUGGESTION_ACCEPTED = "suggestion_accepted", "Suggestion accepted"
    SUGGESTION_REJECTED = "suggestion_rejected", "Suggestion rejected"
    REVIEW = "review", "Review decision"


class ImportStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class ImportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    JSONL = "jsonl", "JSON Lines"
    JSON = "json", "JSON array"
    PARQUET = "parquet", "Parquet"
    WRENCH = "wrench", "WRENCH folder (or .zip)"


class OnConflict(models.TextChoices):
    SKIP = "skip", "Skip items whose external id is known"
    UPDATE = "update", "Update items whose external id is known"


class GoldSource(models.TextChoices):
    ADJUDICATED = "adjudicated", "Adjudicated by a reviewer"
    KNOWN = "known", "Known answer (given by an owner)"


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
