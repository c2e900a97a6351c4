"""Reads of truth inference (oversight.services.truth): the runs, the latest succeeded run's estimated
reliability per annotator and per labeling function, and the items' posteriors.

Each source's estimates live in its run's `sources` JSON (one entry per source: key, kind, name, user_id, lf_id,
answered, accuracy, interval, per_class, confusions, one_coin), so the reliability readers cost one query.
These reads are not scoped: the views check Action.OVERSEE (or SEE_MODEL_OUTPUTS for the posteriors) first, and
the annotator table (oversight.selectors.quality) adds estimates only to the rows its viewer already sees.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q, QuerySet

from core.exceptions import NotFoundError
from oversight.choices import JobStatus, SourceKind
from oversight.models import InferenceRun, ItemInferredLabel
from projects.models import Project
from weak_supervision.hooks import LfEstimate, LfEstimates

ERROR_RUN_NOT_FOUND = "Inference run not found."
# The JSON columns a list of runs does not show: a run's sources grow with its LFs and annotators.
LIST_DEFERRED = ("sources",)


def inference_run_list(*, project: Project) -> QuerySet[InferenceRun]:
    """Newest first, without each run's sources (inference_run_get has them)."""
    return (
        InferenceRun.objects.filter(project=project)
        .select_related("created_by")
        .defer(*LIST_DEFERRED)
        .order_by("-number")
    )


def inference_run_get(*, project: Project, number: int) -> InferenceRun:
    run = InferenceRun.objects.filter(project=project, number=number).select_related("created_by").first()
    if run is None:
        raise NotFoundError(ERROR_RUN_NOT_FOUND)
    return run


def inference_run_latest(*, project: Project) -> InferenceRun | None:
    """The latest succeeded run: the one whose posteriors the items carry and whose estimates are shown."""
    return (
        InferenceRun.objects.filter(project=project, status=JobStatus.SUCCEEDED)
        .select_related("created_by")
        .order_by("-number")
        .first()
    )


def inferred_label_classes(*, project: Project) -> list[str]:
    """The classes of the latest succeeded run, in the order of each posterior's probabilities."""
    found = (
        InferenceRun.objects.filter(project=project, status=JobStatus.SUCCEEDED)
        .order_by("-number")
        .values_list("labels", flat=True)
        .first()
    )
    return list(found or [])


def _sources_of(run: InferenceRun | None, kind: str, id_key: str) -> dict[int, dict[str, Any]]:
    if run is None:
        return {}
    return {
        source[id_key]: {**source, "run": run.number}
        for source in run.sources or []
        if source.get("kind") == kind and source.get(id_key) is not None
    }


def annotator_reliability(*, project: Project) -> dict[int, dict[str, Any]]:
    """Per user id, the latest succeeded run's estimates for that annotator (its `sources` entry, and `run`:
    the run's number); annotators named only in an import have no user and are left out. One query."""
    return _sources_of(inference_run_latest(project=project), SourceKind.ANNOTATOR, "user_id")


def _lf_sources(run: InferenceRun | None) -> dict[int, dict[str, Any]]:
    return {
        **_sources_of(run, SourceKind.LABELING_FUNCTION, "lf_id"),
        **_sources_of(run, SourceKind.EXTERNAL, "lf_id"),
    }


def lf_reliability(*, project: Project) -> dict[int, dict[str, Any]]:
    """Per labeling-function id (external predictions included), as annotator_reliability. One query."""
    return _lf_sources(inference_run_latest(project=project))


def _interval(value: Any) -> tuple[float, float] | None:
    return (float(value[0]), float(value[1])) if isinstance(value, list | tuple) and len(value) == 2 else None


def lf_estimates_get(project: Project) -> LfEstimates | None:
    """What the LF run page shows beside each LF's empirical accuracy (weak_supervision.hooks.lf_estimates,
    registered in oversight.receivers): None before the first succeeded inference run. One query."""
    run = inference_run_latest(project=project)
    if run is None:
        return None
    by_lf = {
        lf_id: LfEstimate(
            accuracy=source.get("accuracy"),
            interval=_interval(source.get("interval")),
            answered=int(source.get("answered") or 0),
        )
        for lf_id, source in _lf_sources(run).items()
    }
    return LfEstimates(run_number=run.number, by_lf=by_lf)


def inferred_label_list(*, project: Project) -> QuerySet[ItemInferredLabel]:
    """The items' posteriors from the latest succeeded run, least sure first, with each item's external id."""
    return (
        ItemInferredLabel.objects.filter(project=project)
        .select_related("item")
        .only("item__external_id", "project_id", "run_id", "label", "confidence", "probabilities", "majority")
        .order_by("confidence", "item_id")
    )


def inferred_as(key: str) -> Q:
    """Posteriors whose inferred label is `key` (multi-label: among the comma-separated keys)."""
    return (
        Q(label=key)
        | Q(label__startswith=f"{key},")
        | Q(label__endswith=f",{key}")
        | Q(label__contains=f",{key},")
    )


def inferred_disagrees() -> Q:
    """Posteriors whose inferred label differs from the annotators' majority (items with one)."""
    return ~Q(majority="") & ~Q(label=F("majority"))
