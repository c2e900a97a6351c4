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
    CONLL = "conll", "CoNLL (token and tag per line)"


class OnConflict(models.TextChoices):
    SKIP = "skip", "Skip items whose external id is known"
    UPDATE = "update", "Update items whose external id is known"


class ProjectKind(models.TextChoices):
    """What an answer is: one label per item, any number of labels per item, or spans of the item's text."""

    SINGLE = "single", "One label per item"
    MULTI = "multi", "Several labels per item"
    SPANS = "spans", "Spans (named entities)"


class LabelChangeAction(models.TextChoices):
    ADD = "add", "Added"
    RENAME = "rename", "Renamed"
    HOTKEY = "hotkey", "Hotkey changed"
    COLOR = "color", "Colour changed"
    REORDER = "reorder", "Moved"
    MERGE = "merge", "Merged"
    RETIRE = "retire", "Retired"
    RESTORE = "restore", "Restored"
