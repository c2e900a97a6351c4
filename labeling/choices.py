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
