"""What a snapshot is asked to hold: its label policy, formats, filters, few-shot sizes and whether it leaves the
suspected label errors out, checked once."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from datasets.choices import ExportFormat, LabelPolicy
from datasets.selectors.inferred import inference_source_get
from datasets.services.splits import SPLIT_RATIOS
from projects.models import Project
from projects.services.label_keys import label_keys_of

MAX_FEWSHOT_K = 1000
DEFAULT_FORMATS = [ExportFormat.PARQUET, ExportFormat.JSONL, ExportFormat.CSV, ExportFormat.HF]
ERROR_FORMATS = "Choose at least one format among {allowed}; unknown: {unknown}."
ERROR_POLICY = "The label policy must be one of {allowed}."
ERROR_CONFIDENCE = "min_confidence must be between 0 and 1."
ERROR_FEWSHOT = f"Few-shot sizes must be whole numbers from 1 to {MAX_FEWSHOT_K}."
ERROR_FILTER_SPLITS = "Unknown split(s) in the filter: {unknown} (train, valid, test)."
ERROR_FILTER_LABELS = "Unknown label(s) in the filter: {unknown}. The project's labels are: {keys}."
ERROR_SPANS_INFERRED = (
    "A span project's snapshot takes gold spans, gold+weak or soft; truth inference answers whole items only."
)
ERROR_NO_INFERENCE = (
    "Run truth inference first: the inferred policy takes its labels from the project's latest succeeded "
    "inference run, and this project has none."
)


@dataclass(frozen=True)
class SnapshotRequest:
    """What to export: the label policy (and its threshold on weak or inferred labels), formats, filters,
    few-shot sizes, and whether to leave out the items the latest label-error scan flags."""

    policy: str = LabelPolicy.GOLD
    min_confidence: float = 0.8
    formats: list[str] = field(default_factory=lambda: list(DEFAULT_FORMATS))
    splits: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    fewshot_k: list[int] = field(default_factory=lambda: [8, 16, 32])
    exclude_label_errors: bool = False


def snapshot_request_validate(*, project: Project, request: SnapshotRequest) -> SnapshotRequest:
    allowed = list(ExportFormat.values)
    unknown = sorted(set(request.formats) - set(allowed))
    if unknown or not request.formats:
        raise ValidationError(
            ERROR_FORMATS.format(allowed=", ".join(allowed), unknown=", ".join(unknown) or "none"),
            code="formats",
        )
    if request.policy not in LabelPolicy.values:
        raise ValidationError(ERROR_POLICY.format(allowed=", ".join(LabelPolicy.values)), code="policy")
    if request.policy == LabelPolicy.INFERRED and project.is_spans:
        raise ValidationError(ERROR_SPANS_INFERRED, code="policy")
    if request.policy == LabelPolicy.INFERRED and inference_source_get(project=project) is None:
        raise ValidationError(ERROR_NO_INFERENCE, code="no_inference")
    if not 0.0 <= request.min_confidence <= 1.0:
        raise ValidationError(ERROR_CONFIDENCE, code="min_confidence")
    if any(not isinstance(k, int) or not 1 <= k <= MAX_FEWSHOT_K for k in request.fewshot_k):
        raise ValidationError(ERROR_FEWSHOT, code="fewshot_k")
    bad_splits = sorted(set(request.splits) - set(SPLIT_RATIOS))
    if bad_splits:
        raise ValidationError(ERROR_FILTER_SPLITS.format(unknown=", ".join(bad_splits)), code="filters")
    keys = label_keys_of(project=project)
    bad_labels = sorted(label for label in set(request.labels) if keys.find(label) is None)
    if bad_labels:
        raise ValidationError(
            ERROR_FILTER_LABELS.format(unknown=", ".join(bad_labels), keys=", ".join(keys.keys)),
            code="filters",
        )
    ordered = [fmt for fmt in allowed if fmt in request.formats]
    return SnapshotRequest(
        policy=request.policy, min_confidence=float(request.min_confidence), formats=ordered,
        splits=sorted(set(request.splits)), labels=sorted({str(keys.find(label)) for label in request.labels}),
        fewshot_k=sorted(set(request.fewshot_k)), exclude_label_errors=bool(request.exclude_label_errors),
    )  # fmt: skip
