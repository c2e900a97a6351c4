"""Celery doors onto the oversight services: truth inference and label-error scans."""

from __future__ import annotations

from celery import shared_task

from core.tasks import OversightTask


# acks_late + reject_on_worker_lost: a worker killed mid-run leaves the message on the broker and the run
# starts again elsewhere; the run writes its results in one transaction, so a rerun gives the same posteriors.
@shared_task(base=OversightTask, acks_late=True, reject_on_worker_lost=True)
def inference_run_execute_task(run_id: int) -> None:
    from oversight.models import InferenceRun
    from oversight.services.truth import inference_run_execute

    if not InferenceRun.objects.filter(pk=run_id).exists():
        return
    inference_run_execute(run_id=run_id)


@shared_task(base=OversightTask)
def inference_if_due_task(project_id: int) -> None:
    from oversight.services.truth import inference_if_due
    from projects.models import Project

    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return
    inference_if_due(project=project)


# Like inference: a scan writes its findings in one transaction and its folds are seeded, so a redelivered
# message reruns it to the same list.
@shared_task(base=OversightTask, acks_late=True, reject_on_worker_lost=True)
def label_error_scan_execute_task(scan_id: int) -> None:
    from oversight.models import LabelErrorScan
    from oversight.services.label_errors import label_error_scan_execute

    if not LabelErrorScan.objects.filter(pk=scan_id).exists():
        return
    label_error_scan_execute(scan_id=scan_id)
