from django.db import models


class LabelingFunctionKind(models.TextChoices):
    KEYWORD = "keyword", "Keywords"
    REGEX = "regex", "Regular expression"
    METADATA = "metadata", "Metadata condition"
    PYTHON = "python", "Python (sandboxed)"
    EXTERNAL = "external", "External (votes imported or posted)"


DECLARATIVE_KINDS = frozenset(
    {LabelingFunctionKind.KEYWORD, LabelingFunctionKind.REGEX, LabelingFunctionKind.METADATA}
)
# Kinds defined by a saved version (written in the browser or the API), as opposed to external votes.
WRITTEN_KINDS = DECLARATIVE_KINDS | {LabelingFunctionKind.PYTHON}


# The aggregators a run fits, simplest first (weak_supervision.aggregators defines them; pages read the names
# here without importing Snorkel and torch).
AGGREGATOR_NAMES = ("majority_vote", "weighted_majority_vote", "dawid_skene", "label_model", "supervised")
# A multi-label run's candidates, simplest first (weak_supervision.services.multi_label).
MULTI_LABEL_AGGREGATOR_NAMES = ("any_vote", "noisy_or", "supervised")


class KeywordMode(models.TextChoices):
    ANY = "any", "Any keyword"
    ALL = "all", "All keywords"


class MetadataOperator(models.TextChoices):
    EQ = "eq", "equals"
    NE = "ne", "does not equal"
    IN = "in", "is one of"
    CONTAINS = "contains", "contains"
    GT = "gt", ">"
    GTE = "gte", ">="
    LT = "lt", "<"
    LTE = "lte", "<="
    EXISTS = "exists", "exists"


class RunStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class EndModelStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"
