from __future__ import annotations

from django.utils import timezone

from oversight.choices import JobStatus
from oversight.models import InferenceRun, ItemInferredLabel, ItemLabelIssue, LabelErrorScan
from projects.models import Item, Project
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory


def label_items(project: Project, labels: list[str]) -> list[Item]:
    """One item per label, which two annotators agree on (a gold label under every policy)."""
    items = []
    for label in labels:
        item = ItemFactory(project=project)
        AnnotationFactory.create_batch(2, item=item, labels=[label])
        items.append(item)
    return items


def inference_run_with(
    project: Project,
    answers: dict[Item, tuple[str, float, list[float]]],
    *,
    number: int = 1,
    status: str = JobStatus.SUCCEEDED,
    labels: list[str] | None = None,
) -> InferenceRun:
    """An inference run as oversight.services.truth stores it: per item its label (comma-separated keys in a
    multi-label project), the posterior of that label and the posterior per class in the run's label order."""
    run = InferenceRun.objects.create(
        project=project, number=number, status=status, engine="dawid_skene", engine_version="1",
        variant="one_coin", labels=labels or ["ham", "spam"], multi_label=project.multi_label,
        finished_at=timezone.now() if status == JobStatus.SUCCEEDED else None,
    )  # fmt: skip
    if status == JobStatus.SUCCEEDED:
        ItemInferredLabel.objects.filter(project=project).delete()
        ItemInferredLabel.objects.bulk_create(
            ItemInferredLabel(
                item=item,
                project=project,
                run=run,
                label=label,
                confidence=confidence,
                probabilities=probabilities,
            )
            for item, (label, confidence, probabilities) in answers.items()
        )
    return run


def label_error_scan_with(
    project: Project, items: list[Item], *, number: int = 1, status: str = JobStatus.SUCCEEDED
) -> LabelErrorScan:
    """A label-error scan that flags `items` (ranked in that order) as probably mislabeled."""
    scan = LabelErrorScan.objects.create(
        project=project, number=number, status=status, labels=["ham", "spam"], n_flagged=len(items)
    )
    ItemLabelIssue.objects.bulk_create(
        ItemLabelIssue(
            scan=scan,
            project=project,
            item=item,
            rank=rank,
            given_label="ham",
            given_from="gold",
            given_probability=0.1,
            predicted_label="spam",
            predicted_probability=0.9,
        )
        for rank, item in enumerate(items, start=1)
    )
    return scan
