"""manage.py simulate_active_learning and retrain_active_learning: the doors the CLI gives onto the services."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import pytest
from django.core.management import CommandError, call_command

from active_learning.models import LearnerModel
from projects.models import Item, Project

pytestmark = pytest.mark.django_db(transaction=True)  # the retrain is handed to Celery on commit


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_simulate_prints_curves_and_a_json_last_line(corpus_project: Callable[..., Project]) -> None:
    # given
    project = corpus_project(items=80, gold=80)

    # when
    output = _run("simulate_active_learning", project.slug, "--strategies", "default,random,uncertainty",
                  "--budget", "30", "--step", "10", "--seeds", "2", "--json")  # fmt: skip

    # then
    result = json.loads(output.strip().splitlines()[-1])
    assert result["metric"] == "accuracy"
    assert result["default"] == "adaptive"
    assert list(result["strategies"]) == ["adaptive", "random", "uncertainty"]
    for data in result["strategies"].values():
        assert [point[0] for point in data["curve"]] == [10, 20, 30]
        assert all(0.0 <= point[1] <= 1.0 for point in data["curve"])
        reached = [n for n, value in data["curve"] if value >= 0.95 * result["full_train"]]
        assert data["labels_to_95"] == (reached[0] if reached else None)
    assert "adaptive (project default): labels to 95% =" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "No project with the slug 'nope'."),
        (["{slug}", "--strategies", "psychic"], "Unknown strategy 'psychic'"),
        (["{slug}", "--budget", "10", "--step", "20"], "with the step at most the budget"),
        (["{slug}", "--metric", "f1:eggs"], "Unknown metric 'f1:eggs'"),
        (["{slug}", "--seeds", "0"], "Seeds must be between 1 and 10."),
    ],
)
def test_simulate_refuses_bad_input(
    corpus_project: Callable[..., Project], args: list[str], message: str
) -> None:
    # given
    project = corpus_project(items=20, gold=20)

    # when / then
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _run("simulate_active_learning", *[arg.format(slug=project.slug) for arg in args])


def test_retrain_writes_priorities_and_prints_the_model(corpus_project: Callable[..., Project]) -> None:
    # given
    project = corpus_project(items=60, gold=30)

    # when
    output = _run("retrain_active_learning", project.slug, "--json")

    # then
    summary = json.loads(output.strip().splitlines()[-1])
    assert (summary["number"], summary["n_labels"], summary["pool_size"], summary["prioritized"]) == (
        1,
        24,
        30,
        30,
    )
    assert summary["metrics"]["n_heldout"] == 6
    assert "Model 1 (adaptive): 24 human labels, 0 weak;" in output
    assert Item.objects.filter(project=project, priority__gt=0).count() == 30
    assert LearnerModel.objects.get(project=project).status == "succeeded"


def test_retrain_of_a_multi_label_project_is_refused(corpus_project: Callable[..., Project]) -> None:
    # given
    project = corpus_project(items=10, gold=4, multi_label=True)

    # when / then
    with pytest.raises(CommandError, match="this project is multi-label"):
        _run("retrain_active_learning", project.slug)
    assert not LearnerModel.objects.exists()
