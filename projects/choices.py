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
