"""Truth inference as a job (oversight.services.truth) on small projects, on SQLite."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from core import jobs
from oversight import tasks
from oversight.choices import JobStatus, JobTrigger, ReviewReason, SourceKind
from oversight.models import InferenceRun, ItemInferredLabel, ReviewRequest
from oversight.services import truth as truth_services
from oversight.services.items import items_delete
from oversight.services.truth import (
    ERROR_NO_ANSWERS,
    ERROR_NO_ITEMS,
    INFER_EVERY,
    NOTE_ONE_SOURCE,
    inference_if_due,
    inference_resting_until,
    inference_run_execute,
    inference_run_start,
    inference_signal,
)
from projects.choices import Split
from projects.models import Item, Project
from tests.labeling.factories import AnnotationFactory, GoldLabelFactory
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

ACCURACIES = {"good1": 0.95, "good2": 0.9, "good3": 0.92, "spammer": 0.5}


def _crowd_project(n: int = 80, seed: int = 0, **project: object) -> tuple[Project, dict[int, str]]:
    """n items, each answered by three of four annotators (one a coin-flipper); returns the true labels."""
    rng = np.random.default_rng(seed)
    p = ProjectFactory(**project)
    users = {name: UserFactory(username=f"{name}-{p.pk}") for name in ACCURACIES}
    truth: dict[int, str] = {}
    for i in range(n):
        item = ItemFactory(project=p, text=f"text {i}")
        truth[item.pk] = label = ["ham", "spam"][int(rng.integers(0, 2))]
        for name in rng.choice(list(ACCURACIES), 3, replace=False):
            right = rng.random() < ACCURACIES[str(name)]
            answer = label if right else ("spam" if label == "ham" else "ham")
            AnnotationFactory(item=item, annotator=users[str(name)], labels=[answer])
    return p, truth


def _run(project: Project) -> InferenceRun:
    started = inference_run_start(project=project, user=None, trigger=JobTrigger.CLI)
    return inference_run_execute(run_id=started.job.pk)


def test_a_run_stores_posteriors_and_each_annotators_reliability() -> None:
    # given
    project, truth = _crowd_project()
    # when
    run = _run(project)
    # then
    assert run.status == JobStatus.SUCCEEDED
    assert run.metrics["n_items"] == 80
    assert run.metrics["n_answers"] == {SourceKind.ANNOTATOR: 240}
    rows = {row.item_id: row for row in ItemInferredLabel.objects.filter(project=project)}
    assert len(rows) == 80
    accuracy = np.mean([rows[item_id].label == label for item_id, label in truth.items()])
    assert accuracy >= 0.9
    assert all(abs(sum(row.probabilities) - 1) < 1e-3 for row in rows.values())
    by_name = {source["name"].split("-")[0]: source for source in run.sources}
    assert min(by_name, key=lambda name: by_name[name]["accuracy"]) == "spammer"
    spammer = by_name["spammer"]
    assert spammer["interval"][0] < spammer["accuracy"] < spammer["interval"][1]
    assert [c["label"] for c in spammer["per_class"]] == ["ham", "spam"]
    assert len(spammer["confusions"][0]["rows"]) == 2


def test_a_rerun_gives_the_same_posteriors() -> None:
    # given
    project, _ = _crowd_project(n=40)
    first = _run(project)
    before = dict(ItemInferredLabel.objects.filter(project=project).values_list("item_id", "probabilities"))
    # when
    second = _run(project)
    after = dict(ItemInferredLabel.objects.filter(project=project).values_list("item_id", "probabilities"))
    # then
    assert second.number == first.number + 1
    assert before == after
    assert set(ItemInferredLabel.objects.filter(project=project).values_list("run_id", flat=True)) == {
        second.pk
    }


def test_a_run_left_running_by_a_killed_worker_runs_again_from_nothing() -> None:
    # given a run marked running, as a worker killed mid-way leaves it
    project, _ = _crowd_project(n=30)
    run = inference_run_start(project=project, user=None).job
    InferenceRun.objects.filter(pk=run.pk).update(status=JobStatus.RUNNING, attempts=1)
    # when
    done = inference_run_execute(run_id=run.pk)
    # then
    assert (done.status, done.attempts) == (JobStatus.SUCCEEDED, 2)
    assert ItemInferredLabel.objects.filter(project=project).count() == 30


def test_gold_outside_the_test_split_is_held_fixed() -> None:
    # given an item every annotator calls ham, with a known answer spam; and a test item with gold
    project, _ = _crowd_project(n=30)
    fixed, scored = list(project.items.order_by("id")[:2])
    for annotation in fixed.annotations.all():
        annotation.labels = ["ham"]
        annotation.save()
    GoldLabelFactory(item=fixed, project=project, labels=["spam"])
    scored.split = Split.TEST
    scored.save()
    GoldLabelFactory(
        item=scored,
        project=project,
        labels=["ham" if scored.annotations.first().labels == ["spam"] else "spam"],
    )
    # when
    run = _run(project)
    # then
    assert run.metrics["n_fixed"] == 1
    assert ItemInferredLabel.objects.get(item=fixed).probabilities == [0.0, 1.0]
    assert ItemInferredLabel.objects.get(item=scored).probabilities not in ([0.0, 1.0], [1.0, 0.0])


def test_an_empty_project_and_one_without_answers_get_a_clear_answer() -> None:
    # given
    empty = ProjectFactory()
    quiet = ProjectFactory()
    ItemFactory(project=quiet)
    # when / then
    with pytest.raises(ValidationError) as no_items:
        inference_run_start(project=empty, user=None)
    with pytest.raises(ValidationError) as no_answers:
        inference_run_start(project=quiet, user=None)
    assert no_items.value.messages == [ERROR_NO_ITEMS]
    assert no_answers.value.messages == [ERROR_NO_ANSWERS]
    assert not InferenceRun.objects.exists()


def test_a_single_annotator_project_gets_its_answers_and_a_note() -> None:
    # given
    project = ProjectFactory()
    user = UserFactory()
    for label in ["ham", "spam", "spam"]:
        AnnotationFactory(item=ItemFactory(project=project), annotator=user, labels=[label])
    # when
    run = _run(project)
    # then
    assert run.status == JobStatus.SUCCEEDED
    assert run.metrics["note"] == NOTE_ONE_SOURCE
    labels = list(
        ItemInferredLabel.objects.filter(project=project).order_by("item_id").values_list("label", flat=True)
    )
    assert labels == ["ham", "spam", "spam"]


def test_a_second_start_joins_the_run_under_way() -> None:
    # given
    project, _ = _crowd_project(n=5)
    first = inference_run_start(project=project, user=None)
    # when
    second = inference_run_start(project=project, user=None)
    # then
    assert (first.created, second.created) == (True, False)
    assert second.job.pk == first.job.pk


def test_items_whose_inferred_label_differs_from_the_majority_go_to_review() -> None:
    # given a crowd with a coin-flipper, whose majority the model overrules on some items
    project, _ = _crowd_project(n=120, seed=3)
    # when
    run = _run(project)
    # then
    differs = set(
        ItemInferredLabel.objects.filter(project=project)
        .exclude(majority="")
        .exclude(label=F("majority"))
        .values_list("item_id", flat=True)
    )
    assert differs
    assert run.metrics["disagreements"] == len(differs)
    queued = {
        request.item_id
        for request in ReviewRequest.objects.filter(project=project)
        if ReviewReason.INFERRED_DIFFERS in request.reasons
    }
    assert queued == differs


def test_a_multi_label_project_gets_one_probability_per_label() -> None:
    # given
    project = ProjectFactory(kind="multi", multi_label=True, labels=["a", "b", "c"])
    users = [UserFactory() for _ in range(3)]
    for answer in (["a", "b"], ["a"], ["c"], ["b", "c"]):
        item = ItemFactory(project=project)
        for user in users:
            AnnotationFactory(item=item, annotator=user, labels=answer)
    # when
    run = _run(project)
    # then
    assert run.status == JobStatus.SUCCEEDED
    rows = list(ItemInferredLabel.objects.filter(project=project).order_by("item_id"))
    assert [row.label for row in rows] == ["a,b", "a", "c", "b,c"]
    assert all(len(row.probabilities) == 3 for row in rows)
    assert {c["label"] for c in run.sources[0]["per_class"]} == {"a", "b", "c"}


def test_infer_labels_prints_json() -> None:
    # given
    project, _ = _crowd_project(n=20)
    # when
    from io import StringIO

    out = StringIO()
    call_command("infer_labels", project.slug, "--json", stdout=out)
    # then
    printed = json.loads(out.getvalue())
    assert printed["status"] == JobStatus.SUCCEEDED
    assert printed["metrics"]["n_items"] == 20
    assert len(printed["sources"]) == 4


def test_every_infer_every_new_answers_a_check_is_enqueued_and_starts_a_run_when_due(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a project with fewer than INFER_EVERY answers since the last run
    project, _ = _crowd_project(n=10)
    cache.delete(f"oversight:inference:new-answers:{project.pk}")
    # when answers are counted
    with django_capture_on_commit_callbacks() as callbacks:
        signalled = [inference_signal(project=project) for _ in range(INFER_EVERY)]
    # then only the last one enqueued a check, which finds too few answers in the database
    assert signalled.count(True) == 1
    assert signalled[-1] is True
    assert len(callbacks) == 1
    assert inference_if_due(project=project) is None
    # and once enough answers are stored, the check starts a run triggered by answers
    user = UserFactory()
    for item in ItemFactory.create_batch(INFER_EVERY, project=project):
        AnnotationFactory(item=item, annotator=user, labels=["ham"])
    run = inference_if_due(project=project)
    assert run is not None
    assert run.trigger == JobTrigger.ANSWERS


def test_answers_start_no_run_while_the_last_one_rests_and_check_again_when_it_ends(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a project whose last run worked 10 s (its commit included) and ended 2 s ago, with enough answers
    settings.OVERSIGHT_AUTO_JOB_MAX_SHARE = 0.25
    project, _ = _crowd_project(n=10)
    last = _run(project)
    ended = timezone.now() - timedelta(seconds=2)
    InferenceRun.objects.filter(pk=last.pk).update(
        started_at=ended - timedelta(seconds=10), finished_at=ended
    )
    last.refresh_from_db()
    user = UserFactory()
    for item in ItemFactory.create_batch(INFER_EVERY, project=project):
        AnnotationFactory(item=item, annotator=user, labels=["ham"])
    later: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        jobs,
        "enqueue_later_on_commit",
        lambda task, *args, seconds: later.append((task, args, seconds)) or True,
    )

    # when / then it rests 3 x 10 s after it ended: no run, one check for when the rest ends
    assert inference_resting_until(last) == ended + timedelta(seconds=30)
    assert inference_if_due(project=project) is None
    assert inference_if_due(project=project) is None
    assert [(task, args) for task, args, _ in later] == [(tasks.inference_if_due_task, (project.pk,))]
    assert 27.5 <= later[0][2] <= 28.5
    # and once the rest is over the check starts the run
    InferenceRun.objects.filter(pk=last.pk).update(finished_at=ended - timedelta(seconds=30))
    run = inference_if_due(project=project)
    assert run is not None
    assert run.trigger == JobTrigger.ANSWERS


def test_a_run_ends_after_its_commit_and_a_share_of_one_never_rests(settings: Any) -> None:
    # given
    project, _ = _crowd_project(n=10)

    # when
    run = _run(project)

    # then its end is recorded after its start; with a share of 1 nothing rests
    assert run.started_at is not None
    assert run.finished_at is not None
    assert run.finished_at >= run.started_at
    assert InferenceRun.objects.get(pk=run.pk).finished_at == run.finished_at
    settings.OVERSIGHT_AUTO_JOB_MAX_SHARE = 1.0
    assert inference_resting_until(run) is None
    assert inference_resting_until(None) is None


def test_an_item_deleted_after_the_run_read_it_gets_no_posterior_and_the_run_succeeds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a project one of whose items is deleted after the run has read the answers
    project, truth = _crowd_project(n=40)
    gone = min(truth)
    read = truth_services.project_answers_get

    def read_then_delete(*, project: Project) -> Any:
        found = read(project=project)
        items_delete(project=project, items=Item.objects.filter(pk=gone), confirm=1)
        return found

    monkeypatch.setattr(truth_services, "project_answers_get", read_then_delete)

    # when a run executes
    run = _run(project)

    # then it succeeded, with a row for every item left and none for the deleted one
    assert run.status == JobStatus.SUCCEEDED, run.error
    rows = set(ItemInferredLabel.objects.filter(project=project).values_list("item_id", flat=True))
    assert rows == set(truth) - {gone}
