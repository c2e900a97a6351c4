"""Celery doors onto the run service: dispatch fans the chunks out as a chord; the last step fits the model."""

from __future__ import annotations

from celery import chord, shared_task

from core.tasks import OversightTask


@shared_task(base=OversightTask)
def run_dispatch_task(run_id: int) -> None:
    """Starts a run: one chunk task per slice of items (any worker takes any), then the finish step."""
    from weak_supervision.models import LabelModelRun
    from weak_supervision.services.runs import run_mark_running

    run = LabelModelRun.objects.filter(pk=run_id).first()
    if run is None or run.is_finished:
        return
    run_mark_running(run=run)
    header = [run_chunk_task.si(run_id, index) for index in range(len(run.chunks))]
    chord(header)(run_finish_task.si(run_id).on_error(run_fail_task.si(run_id)))


# acks_late + reject_on_worker_lost: a worker killed mid-chunk leaves the message on the broker, and the
# chunk runs again elsewhere (chunks are idempotent).
@shared_task(base=OversightTask, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=3,
             default_retry_delay=5)  # fmt: skip
def run_chunk_task(self: OversightTask, run_id: int, index: int) -> int:
    from weak_supervision.models import LabelModelRun
    from weak_supervision.services.runs import run_chunk_apply

    run = LabelModelRun.objects.filter(pk=run_id).first()
    if run is None or run.is_finished:
        return 0
    return run_chunk_apply(run=run, index=index).rows


@shared_task(base=OversightTask, acks_late=True, reject_on_worker_lost=True)
def run_finish_task(run_id: int) -> None:
    from weak_supervision.models import LabelModelRun
    from weak_supervision.services.runs import run_finish

    run = LabelModelRun.objects.filter(pk=run_id).first()
    if run is None or run.is_finished:
        return
    run_finish(run=run)


@shared_task(base=OversightTask)
def run_fail_task(run_id: int, *args: object) -> None:
    from weak_supervision.services.runs import run_fail

    run_fail(run_id=run_id, error="A chunk of the run failed after its retries; see the worker's log.")


@shared_task(base=OversightTask, acks_late=True, reject_on_worker_lost=True)
def end_model_task(run_id: int) -> None:
    """Trains the end model of a finished run (once: a run whose end model is no longer pending is left).
    Where several feature blocks are missing, they are built first, one task each (any worker takes any),
    and this task runs again after them."""
    from features.tasks import feature_block_task
    from weak_supervision.choices import EndModelStatus
    from weak_supervision.models import LabelModelRun
    from weak_supervision.services.end_model import end_model_features_missing, end_model_fit

    run = LabelModelRun.objects.filter(pk=run_id).select_related("project").first()
    if run is None or ((run.metrics or {}).get("end_model") or {}).get("status") != EndModelStatus.PENDING:
        return
    missing = end_model_features_missing(run=run)
    if len(missing) > 1:
        header = [
            feature_block_task.si(run.project_id, plan.kind, plan.first_id, plan.last_id) for plan in missing
        ]
        chord(header)(end_model_task.si(run_id))
        return
    end_model_fit(run=run)


@shared_task(base=OversightTask, acks_late=True, reject_on_worker_lost=True)
def run_outputs_store_task(run_id: int) -> None:
    """Stores a succeeded run's weak labels and LF votes as rows for the item browser (idempotent)."""
    from weak_supervision.models import LabelModelRun
    from weak_supervision.services.outputs import run_outputs_store

    run = LabelModelRun.objects.filter(pk=run_id).select_related("project").first()
    if run is None:
        return
    run_outputs_store(run=run)
