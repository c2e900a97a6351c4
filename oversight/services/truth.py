"""Truth inference as a job: read every source's answers (oversight.selectors.truth_answers), fit the model
(oversight.truth), store each item's posterior and each source's estimated reliability, and send the items
whose inferred label is in doubt to review.

A run is retry-safe: its results are written in one transaction that replaces the project's previous
posteriors as a whole, and the fit is deterministic, so a run killed at any point and run again gives the same
posteriors. One run at a time per project (a second start joins the one under way). Runs start on demand (UI,
API, `infer_labels`) and after every INFER_EVERY new answers (`inference_signal`, on a worker).

Multi-label projects get one binary model per label (present or absent), with the same sources.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from core.cache import counter_incr
from core.jobs import Started, automatic_job_resting, automatic_rest_until, enqueue_on_commit
from core.queries import fk_triggers_may_be_off, fk_triggers_off
from oversight import tasks, truth
from oversight.choices import JobStatus, JobTrigger, ReviewReason, SourceKind
from oversight.models import InferenceRun, ItemInferredLabel
from oversight.selectors.truth_answers import ProjectAnswers, Source, project_answers_get, project_item_ids
from oversight.services.jobs import job_execute, job_under_way
from oversight.services.review import review_requests_add
from projects.models import Project
from weak_supervision.models import ItemEndModelLabel, ItemLfVote

INFER_EVERY = 200  # new answers between automatic runs (a run over 1M items costs about half a minute)
REVIEW_LIMIT = 1000  # items queued per reason and run, least sure first: review is for people, not a dump
WRITE_BATCH = 5000  # rows per bulk_create (SQLite)
COPY_BATCH = 100_000  # rows formatted per COPY write (PostgreSQL): about 10 MB of text

ERROR_NO_ITEMS = "The project has no items: import some before inferring labels."
ERROR_NO_ANSWERS = (
    "Nothing to infer from: no annotator, labeling function or model has answered an item of the project yet."
)
NOTE_ONE_SOURCE = (
    "Only one source answered: its answers are the inferred labels, and its reliability cannot be estimated "
    "from agreement (add gold items, a second annotator or labeling functions)."
)

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


ERROR_SPANS = (
    "Truth inference weighs item labels; a span project's answers are measured by span agreement, review "
    "and gold checks scored by span F1."
)


def inference_run_start(
    *, project: Project, user: User | None, trigger: str = JobTrigger.UI, enqueue: bool = True
) -> Started[InferenceRun]:
    """Starts a run, or answers with the project's run already pending or running (one at a time). The run is
    handed to a worker on commit, unless the caller runs it itself (`enqueue=False`: infer_labels)."""
    if project.is_spans:
        raise ValidationError(ERROR_SPANS, code="spans")
    if (running := job_under_way(InferenceRun, project)) is not None:
        return Started(job=running, created=False)
    with transaction.atomic():
        Project.objects.select_for_update(no_key=True).filter(pk=project.pk).first()
        if (running := job_under_way(InferenceRun, project)) is not None:
            return Started(job=running, created=False)
        if not project.items.exists():
            raise ValidationError(ERROR_NO_ITEMS, code="no_items")
        if not _has_answers(project):
            raise ValidationError(ERROR_NO_ANSWERS, code="no_answers")
        number = (InferenceRun.objects.filter(project=project).aggregate(n=Max("number"))["n"] or 0) + 1
        run = InferenceRun.objects.create(
            project=project, number=number, trigger=trigger, created_by=user,
            engine=truth.ENGINE, engine_version=truth.ENGINE_VERSION, multi_label=project.multi_label,
        )  # fmt: skip
        if enqueue:
            enqueue_on_commit(tasks.inference_run_execute_task, run.pk)
    return Started(job=run, created=True)


def _has_answers(project: Project) -> bool:
    return (
        project.annotations.exists()
        or ItemLfVote.objects.filter(labeling_function__project=project).exists()
        or ItemEndModelLabel.objects.filter(project=project).exists()
        or project.items.exclude(suggested_label="").exists()
    )


def inference_signal(*, project: Project) -> bool:
    """Called on every new annotation, inside its transaction: every INFER_EVERY answers of a project, a check
    is enqueued on a worker (inference_if_due), never run in the request. Returns whether it enqueued one."""
    if project.is_spans:
        return False
    key = f"oversight:inference:new-answers:{project.pk}"
    count = counter_incr(key)
    if count % INFER_EVERY:
        return False
    enqueue_on_commit(tasks.inference_if_due_task, project.pk)
    return True


def inference_resting_until(last: InferenceRun | None) -> datetime | None:
    """Until when answers start no run after `last` (core.jobs.automatic_rest_until): automatic runs take at
    most OVERSIGHT_AUTO_JOB_MAX_SHARE of the time, counted from the run's start to the end of its commit. On a
    million items a run (about half a minute, most of it writing a row per item) would otherwise follow
    every INFER_EVERY answers back to back. None: no rest."""
    if (
        last is None
        or last.status != JobStatus.SUCCEEDED
        or last.started_at is None
        or last.finished_at is None
    ):
        return None
    worked = (last.finished_at - last.started_at).total_seconds()
    return automatic_rest_until(finished_at=last.finished_at, worked_seconds=worked)


def inference_if_due(*, project: Project) -> InferenceRun | None:
    """Starts a run when at least INFER_EVERY answers arrived since the last run's watermark and the last
    automatic run has rested (inference_resting_until)."""
    last = InferenceRun.objects.filter(project=project).order_by("-number").first()
    watermark = last.answer_watermark if last is not None else 0
    if project.annotations.filter(pk__gt=watermark).count() < INFER_EVERY:
        return None
    key = f"oversight:inference:rest-check:{project.pk}"
    if automatic_job_resting(inference_resting_until(last), key, tasks.inference_if_due_task, project.pk):
        return None
    try:
        return inference_run_start(project=project, user=None, trigger=JobTrigger.ANSWERS).job
    except ValidationError:
        return None


def inference_run_execute(*, run_id: int) -> InferenceRun:
    """Fits and stores a run (again, when a previous attempt died: it starts from nothing)."""
    return job_execute(InferenceRun, run_id, _execute)


@dataclass(frozen=True)
class _Fitted:
    posteriors: Floats  # (n, k) single-label; (n, L) probability present, multi-label
    variant: str
    selection: dict[str, Any]
    reliability: list[dict[str, Any]]
    iterations: int
    converged: bool
    log_likelihood: float


def _execute(run: InferenceRun) -> InferenceRun:
    project = run.project
    started = time.monotonic()
    data = project_answers_get(project=project)
    read = time.monotonic()
    if not len(data.item_ids):
        raise ValidationError(ERROR_NO_ITEMS, code="no_items")
    if not len(data.item):
        raise ValidationError(ERROR_NO_ANSWERS, code="no_answers")
    rows = np.searchsorted(data.item_ids, data.item)
    sources = data.source
    fitted = _fit_multi(data, rows, sources) if data.multi_label else _fit_single(data, rows, sources)
    fit = time.monotonic()
    labels, confidence, majority = _outputs(data, rows, sources, fitted.posteriors)
    disagrees = (majority != "") & (labels != majority)
    threshold = project.review_confidence_threshold
    answered_by_people = _annotated_rows(data, rows, sources)
    low = answered_by_people & (confidence < threshold)
    metrics: dict[str, Any] = {
        "n_items": len(data.item_ids),
        "n_answers": _by_kind(data.sources, np.bincount(sources, minlength=len(data.sources))),
        "n_sources": _by_kind(data.sources, np.ones(len(data.sources), dtype=np.int64)),
        "n_fixed": len(data.gold),
        "iterations": fitted.iterations,
        "converged": fitted.converged,
        "log_likelihood": round(fitted.log_likelihood, 3),
        "disagreements": int(disagrees.sum()),
        "low_posterior": int(low.sum()),
        "low_posterior_below": threshold,
    }
    if len(data.sources) == 1:
        metrics["note"] = NOTE_ONE_SOURCE
    with transaction.atomic():
        # Two attempts at one run (a redelivered task beside a slow one) or two runs of one project write in
        # turn; an attempt that finds its run already finished leaves it.
        Project.objects.select_for_update(no_key=True).filter(pk=project.pk).first()
        if InferenceRun.objects.filter(pk=run.pk, status=JobStatus.RUNNING).count() == 0:
            return InferenceRun.objects.get(pk=run.pk)
        existing = _store(run, data, labels, confidence, fitted.posteriors, majority)
        added = _review(project, data, labels, confidence, majority, disagrees & existing, low & existing)
        metrics["review_added"] = added
        write = time.monotonic()
        metrics["seconds"] = {
            "read": round(read - started, 3), "fit": round(fit - read, 3), "write": round(write - fit, 3),
            "total": round(write - started, 3),
        }  # fmt: skip
        run.status = JobStatus.SUCCEEDED
        run.variant = fitted.variant
        run.selection = fitted.selection
        run.labels = data.keys
        run.sources = fitted.reliability
        run.metrics = metrics
        run.answer_watermark = data.watermark
        run.error = ""
        run.finished_at = timezone.now()
        run.save()
    # Its end, the commit included (checking a row per item's foreign keys takes seconds on a million items):
    # what the next automatic run rests after.
    run.finished_at = timezone.now()
    InferenceRun.objects.filter(pk=run.pk).update(finished_at=run.finished_at)
    return run


def _by_kind(sources: list[Source], values: npt.NDArray[Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for source, value in zip(sources, values, strict=True):
        out[source.kind] = out.get(source.kind, 0) + int(value)
    return out


def _selection_json(selection: truth.Selection) -> dict[str, Any]:
    return {
        "variant": selection.variant, "method": selection.method,
        "scores": {k: round(v, 4) for k, v in selection.scores.items()}, "n_heldout": selection.n_heldout,
    }  # fmt: skip


def _fit_single(data: ProjectAnswers, rows: Ints, sources: Ints) -> _Fitted:
    k = len(data.keys)
    answers = truth.Answers.of(
        rows, sources, data.answer, n_items=len(data.item_ids),
        n_sources=len(data.sources), k=k, silent_answers=[source.silent for source in data.sources],
    )  # fmt: skip
    fixed_ids = np.fromiter(data.gold, dtype=np.int64, count=len(data.gold))
    fixed_rows = np.searchsorted(data.item_ids, fixed_ids)
    fixed_classes = np.fromiter((c[0] for c in data.gold.values()), dtype=np.int64, count=len(data.gold))
    selection = truth.variant_select(answers, fixed_rows=fixed_rows, fixed_classes=fixed_classes)
    inference = truth.infer(
        answers, fixed_rows=fixed_rows, fixed_classes=fixed_classes, variant=selection.variant
    )
    reliability = truth.source_reliability(answers, inference)
    out = []
    for source, estimate in zip(data.sources, reliability, strict=True):
        row = _source_json(source, estimate.answered, estimate.accuracy, estimate.accuracy_interval)
        row["per_class"] = [
            {"label": key, "accuracy": _round(acc), "interval": _interval(interval), "items": round(items, 2)}
            for key, acc, interval, items in zip(
                data.keys, estimate.class_accuracy, estimate.class_interval, estimate.class_items, strict=True
            )
        ]
        row["confusions"] = [{"label": None, "classes": data.keys, "rows": _matrix(estimate.confusion)}]
        row["one_coin"] = estimate.one_coin
        out.append(row)
    return _Fitted(
        inference.posteriors, selection.variant, _selection_json(selection), out, inference.iterations,
        inference.converged, inference.log_likelihood,
    )  # fmt: skip


def _fit_multi(data: ProjectAnswers, rows: Ints, sources: Ints) -> _Fitted:
    """One binary model per label: an annotator says present or absent; an LF votes present or is silent."""
    n, n_sources = len(data.item_ids), len(data.sources)
    silent = np.array([source.silent for source in data.sources], dtype=np.bool_)
    present = np.zeros((len(data.answer_sets), len(data.keys)), dtype=np.bool_)
    for j, classes in enumerate(data.answer_sets):
        present[j, list(classes)] = True
    posteriors = np.zeros((n, len(data.keys)))
    per_source: list[dict[str, Any]] = [
        {"answered": 0, "hits": 0.0, "per_class": [], "confusions": [], "one_coin": False}
        for _ in data.sources
    ]
    variants: dict[str, str] = {}
    iterations, converged, log_likelihood = 0, True, 0.0
    for c, key in enumerate(data.keys):
        # An LF answers a label only when it votes for it; LFs that never voted for it say nothing about it.
        keep = ~silent[sources] | present[:, c]
        voted = np.zeros(n_sources, dtype=np.bool_)
        voted[sources[present[:, c] & silent[sources]]] = True
        keep &= ~silent[sources] | voted[sources]
        answers = truth.Answers.of(
            rows[keep], sources[keep], present[keep, c].astype(np.int64), n_items=n, n_sources=n_sources, k=2,
            silent_answers=silent & voted,
        )  # fmt: skip
        fixed_ids = np.fromiter(data.gold, dtype=np.int64, count=len(data.gold))
        fixed_rows = np.searchsorted(data.item_ids, fixed_ids)
        fixed_classes = np.fromiter(
            (int(c in g) for g in data.gold.values()), dtype=np.int64, count=len(data.gold)
        )
        selection = truth.variant_select(answers, fixed_rows=fixed_rows, fixed_classes=fixed_classes)
        variants[key] = selection.variant
        inference = truth.infer(
            answers, fixed_rows=fixed_rows, fixed_classes=fixed_classes, variant=selection.variant
        )
        posteriors[:, c] = inference.posteriors[:, 1]
        iterations = max(iterations, inference.iterations)
        converged = converged and inference.converged
        log_likelihood += inference.log_likelihood
        for s, estimate in enumerate(truth.source_reliability(answers, inference)):
            if not estimate.answered:
                continue
            slot = per_source[s]
            slot["answered"] += estimate.answered
            slot["hits"] += (estimate.accuracy or 0.0) * estimate.answered
            slot["per_class"].append({
                "label": key, "accuracy": _round(estimate.accuracy), "interval": _interval(estimate.accuracy_interval),
                "items": float(estimate.answered),
            })  # fmt: skip
            slot["confusions"].append(
                {"label": key, "classes": ["absent", "present"], "rows": _matrix(estimate.confusion)}
            )
            slot["one_coin"] = slot["one_coin"] or estimate.one_coin
    out = []
    for source, slot in zip(data.sources, per_source, strict=True):
        answered = int(slot["answered"])
        accuracy = slot["hits"] / answered if answered else None
        interval = truth._beta_interval(slot["hits"], answered - slot["hits"]) if answered else None
        row = _source_json(source, answered, accuracy, interval)
        row.update(per_class=slot["per_class"], confusions=slot["confusions"], one_coin=slot["one_coin"])
        out.append(row)
    chosen = sorted(set(variants.values()))
    selection_json = {"variant": ",".join(chosen), "method": "per_label", "per_label": variants}
    return _Fitted(posteriors, ",".join(chosen), selection_json, out, iterations, converged, log_likelihood)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _interval(interval: tuple[float, float] | None) -> list[float] | None:
    return None if interval is None else [round(interval[0], 4), round(interval[1], 4)]


def _matrix(rows: list[list[float]]) -> list[list[float]]:
    return [[round(v, 4) for v in row] for row in rows]


def _source_json(
    source: Source, answered: int, accuracy: float | None, interval: tuple[float, float] | None
) -> dict[str, Any]:
    return {
        "key": source.key, "kind": str(source.kind), "name": source.name, "user_id": source.user_id,
        "lf_id": source.lf_id, "answered": answered, "accuracy": _round(accuracy), "interval": _interval(interval),
    }  # fmt: skip


def _annotated_rows(data: ProjectAnswers, rows: Ints, sources: Ints) -> npt.NDArray[np.bool_]:
    people = np.array([source.kind == SourceKind.ANNOTATOR for source in data.sources], dtype=np.bool_)
    out = np.zeros(len(data.item_ids), dtype=np.bool_)
    out[rows[people[sources]]] = True
    return out


def _outputs(
    data: ProjectAnswers, rows: Ints, sources: Ints, posteriors: Floats
) -> tuple[npt.NDArray[np.object_], Floats, npt.NDArray[np.object_]]:
    """Each item's inferred label, its posterior, and the annotators' majority ('' without one)."""
    keys = np.array(data.keys, dtype=object)
    people = np.array([source.kind == SourceKind.ANNOTATOR for source in data.sources], dtype=np.bool_)
    mask = people[sources]
    n, width = len(data.item_ids), len(data.keys)
    answered = np.bincount(rows[mask], minlength=n).astype(np.float64)
    votes = np.zeros((n, width))
    if data.multi_label:
        sets = (answer for answer, person in zip(data.answer_sets, mask, strict=True) if person)
        for row, classes in zip(rows[mask], sets, strict=True):
            votes[row, list(classes)] += 1.0
    else:
        flat = rows[mask] * width + data.answer[mask]
        votes = np.bincount(flat, minlength=n * width).reshape(n, width).astype(np.float64)
    if data.multi_label:
        chosen = posteriors >= 0.5
        labels = np.array([",".join(keys[row]) for row in chosen], dtype=object)
        confidence = np.where(chosen, posteriors, 1.0 - posteriors).min(axis=1) if width else np.ones(n)
        half = answered[:, None] / 2.0
        tied = (votes == half).any(axis=1)
        majority = np.array([",".join(keys[row]) for row in votes > half], dtype=object)
        majority[(answered == 0) | tied] = ""
        return labels, np.asarray(confidence, dtype=np.float64), majority
    top = np.argmax(posteriors, axis=1)
    labels = keys[top]
    confidence = posteriors[np.arange(n), top]
    best = votes.max(axis=1)
    tied = (votes == best[:, None]).sum(axis=1) > 1
    majority = keys[np.argmax(votes, axis=1)].astype(object)
    majority[(answered == 0) | tied] = ""
    return labels, np.asarray(confidence, dtype=np.float64), majority


def _store(
    run: InferenceRun, data: ProjectAnswers, labels: npt.NDArray[np.object_], confidence: Floats,
    posteriors: Floats, majority: npt.NDArray[np.object_],
) -> npt.NDArray[np.bool_]:  # fmt: skip
    """Replaces the project's posteriors with this run's (inside the caller's transaction, which holds the
    project's row). Items deleted since the run read them get no row; returns which of the run's items are
    still there."""
    ItemInferredLabel.objects.filter(project_id=run.project_id).delete()
    # The items as they are inside this transaction: deleting items takes the project's row first
    # (oversight.services.items.items_delete), which this run holds, so none can go before the commit.
    existing = np.isin(data.item_ids, project_item_ids(project_id=run.project_id), assume_unique=True)
    rows = np.flatnonzero(existing)
    probabilities = np.round(posteriors, 4)
    if connection.vendor == "postgresql":
        _copy(run, data.item_ids[rows], labels[rows], confidence[rows], probabilities[rows], majority[rows])
        return existing
    batch: list[ItemInferredLabel] = []
    for i in rows.tolist():
        batch.append(ItemInferredLabel(
            item_id=int(data.item_ids[i]), project_id=run.project_id, run_id=run.pk, label=str(labels[i]),
            confidence=float(confidence[i]), probabilities=probabilities[i].tolist(), majority=str(majority[i]),
        ))  # fmt: skip
        if len(batch) >= WRITE_BATCH:
            ItemInferredLabel.objects.bulk_create(batch)
            batch = []
    if batch:
        ItemInferredLabel.objects.bulk_create(batch)
    return existing


def _copy(
    run: InferenceRun, item_ids: Ints, labels: npt.NDArray[np.object_], confidence: Floats,
    probabilities: Floats, majority: npt.NDArray[np.object_],
) -> None:  # fmt: skip
    """COPY of the rows, their text built a column at a time (a million rows in about 2 s).

    Without per-row foreign-key checks where the role may turn them off (core.queries.fk_triggers_off): at
    the commit, a million rows' checks took 11-14 s here, each locking its item FOR KEY SHARE, which rewrote
    every item's row header (bench/truth_job.py). What they would make sure of holds without them: the items
    are the project's items read inside this transaction (`_store`), which no deletion can remove before
    the commit (it waits for the project's row, held here); the project's row is held here; the run's row is
    locked here as the checks would lock it."""
    table = connection.ops.quote_name(ItemInferredLabel._meta.db_table)
    columns = "item_id, project_id, run_id, label, confidence, probabilities, majority"
    prefix = f"\t{run.project_id}\t{run.pk}\t"
    off = fk_triggers_may_be_off()
    with fk_triggers_off(off=off) as cursor:
        if off:
            cursor.execute(
                f"SELECT 1 FROM {connection.ops.quote_name(InferenceRun._meta.db_table)} WHERE id = %s "
                "FOR KEY SHARE",
                [run.pk],
            )
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for low in range(0, len(item_ids), COPY_BATCH):
                high = low + COPY_BATCH
                soft = probabilities[low:high]
                parts = [np.char.mod("%.4g", soft[:, c]) for c in range(soft.shape[1])]
                joined = parts[0]
                for part in parts[1:]:
                    joined = np.char.add(np.char.add(joined, ","), part)
                lines = "".join(
                    f"{item_id}{prefix}{label}\t{conf!r}\t[{soft_text}]\t{major}\n"
                    for item_id, label, conf, soft_text, major in zip(
                        item_ids[low:high].tolist(), labels[low:high], confidence[low:high].tolist(),
                        joined.tolist(), majority[low:high], strict=True,
                    )
                )  # fmt: skip
                copy.write(lines)


def _review(
    project: Project, data: ProjectAnswers, labels: npt.NDArray[np.object_], confidence: Floats,
    majority: npt.NDArray[np.object_], disagrees: npt.NDArray[np.bool_], low: npt.NDArray[np.bool_],
) -> int:  # fmt: skip
    """Sends to review, least sure first, at most REVIEW_LIMIT per reason: the items whose inferred label
    differs from their annotators' majority, and answered items whose posterior is under the threshold."""
    gold = np.isin(data.item_ids, np.fromiter(data.gold, dtype=np.int64, count=len(data.gold)))
    added = 0
    for reason, mask in (
        (ReviewReason.INFERRED_DIFFERS, disagrees & ~gold),
        (ReviewReason.LOW_POSTERIOR, low & ~gold),
    ):
        rows = np.flatnonzero(mask)
        rows = rows[np.argsort(confidence[rows], kind="stable")][:REVIEW_LIMIT]
        if not len(rows):
            continue
        detail = {
            int(data.item_ids[r]): {
                "inferred": str(labels[r]), "majority": str(majority[r]), "posterior": round(float(confidence[r]), 4)
            }
            for r in rows
        }  # fmt: skip
        added += review_requests_add(project=project, item_ids=list(detail), reason=reason, detail=detail)
    return added
