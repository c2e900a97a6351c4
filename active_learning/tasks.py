"""Celery doors onto retraining and simulations. A retrain fans out twice: the missing feature blocks
(if more than one), then one scoring chunk per feature block; any worker takes any chunk."""

from __future__ import annotations

from celery import chord, shared_task

from core.tasks import OversightTask


@shared_task(base=OversightTask, acks_late=True, reject_on_worker_lost=True, max_retries=3,
             default_retry_delay=5)  # fmt: skip
def learner_model_train_task(model_id: int) -> None:
    """Builds missing features (in parallel when there are several blocks), then trains and fans out scoring."""
    from active_learning.choices import ModelStatus
    from active_learning.models import LearnerModel
    from active_learning.services.training import (
        feature_range_build,
        features_missing,
        learner_model_fail,
        learner_model_train,
    )

    model = LearnerModel.objects.filter(pk=model_id).select_related("project").first()
    if model is None or model.is_finished:
        return
    try:
        missing = features_missing(model=model)
        if len(missing) > 1:
            header = [feature_block_task.si(model_id, first, last, kind) for kind, first, last in missing]
            chord(header)(
                learner_model_train_task.si(model_id).on_error(learner_model_fail_task.si(model_id))
            )
            return
        for kind, first, last in missing:
            feature_range_build(model=model, kind=kind, first_id=first, last_id=last)
        if model.status != ModelStatus.SCORING:
            model = learner_model_train(model=model)
    except Exception as exc:
        learner_model_fail(model_id=model_id, error=f"{type(exc).__name__}: {exc}")
        raise
    header = [score_chunk_task.si(model_id, index) for index in range(len(model.chunks))]
    finish = learner_model_finish_task.si(model_id).on_error(learner_model_fail_task.si(model_id))
    if header:
        chord(header)(finish)
    else:
        finish.delay()


@shared_task(base=OversightTask, acks_late=True, reject_on_worker_lost=True, max_retries=3,
             default_retry_delay=5)  # fmt: skip
def feature_block_task(model_id: int, first_id: int, last_id: int, kind: str = "") -> None:
    """Builds one planned range of a stored feature kind (messages queued before kinds were sent name none:
    they were of the model's own kind)."""
    from active_learning.models import LearnerModel
    from active_learning.services.training import feature_range_build

    model = LearnerModel.objects.filter(pk=model_id).select_related("project").first()
    if model is None or model.is_finished:
        return
    feature_range_build(model=model, kind=kind or model.features, first_id=first_id, last_id=last_id)


@shared_task(base=OversightTask, acks_late=True, reject_on_worker_lost=True, max_retries=3,
             default_retry_delay=5)  # fmt: skip
def score_chunk_task(model_id: int, index: int) -> int:
    from active_learning.models import LearnerModel
    from active_learning.services.training import score_chunk_compute

    model = LearnerModel.objects.filter(pk=model_id).select_related("project").first()
    if model is None or model.is_finished:
        return 0
    return score_chunk_compute(model=model, index=index).rows


@shared_task(base=OversightTask, acks_late=True, reject_on_worker_lost=True)
def learner_model_finish_task(model_id: int) -> None:
    from active_learning.models import LearnerModel
    from active_learning.services.training import learner_model_finish

    model = LearnerModel.objects.filter(pk=model_id).select_related("project").first()
    if model is None or model.is_finished:
        return
    learner_model_finish(model=model)


@shared_task(base=OversightTask)
def learner_model_fail_task(model_id: int, *args: object) -> None:
    from active_learning.services.training import learner_model_fail

    learner_model_fail(
        model_id=model_id, error="A step of the retrain failed after its retries; see the worker's log."
    )


@shared_task(base=OversightTask, acks_late=True, reject_on_worker_lost=True)
def simulation_run_task(simulation_id: int) -> None:
    from active_learning.models import Simulation
    from active_learning.services.simulations import simulation_run

    simulation = Simulation.objects.filter(pk=simulation_id).select_related("project").first()
    if simulation is None or simulation.status in {"succeeded", "failed"}:
        return
    simulation_run(simulation=simulation)


@shared_task(base=OversightTask, acks_late=True, max_retries=3, default_retry_delay=5)
def learner_retrain_if_due_task(project_id: int) -> None:
    """Enough new answers arrived (learner_retrain_signal): starts a retrain if one is due."""
    from active_learning.services.training import learner_retrain_if_due
    from projects.models import Project

    project = Project.objects.filter(pk=project_id).first()
    if project is not None:
        learner_retrain_if_due(project=project)


@shared_task(base=OversightTask, acks_late=True, max_retries=3, default_retry_delay=5)
def suggestions_refresh_task(model_id: int) -> None:
    """Suggestions were turned on: the latest model writes them for the queue's front."""
    from active_learning.models import LearnerModel
    from active_learning.services.training import suggestions_refresh

    model = LearnerModel.objects.filter(pk=model_id).select_related("project").first()
    if model is not None:
        suggestions_refresh(model=model)
