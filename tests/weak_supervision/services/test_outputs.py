"""The latest run's answers as rows (what the item browser filters on): written after a run, replaced by the
next, never by an older run; they repeat what the run's files say."""

from __future__ import annotations

from typing import Any

import pytest

from projects.choices import Split
from projects.models import Item, Project
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, ProjectFactory
from tests.weak_supervision.factories import keyword_lf
from weak_supervision.models import ItemEndModelLabel, ItemLfVote, ItemWeakLabel, LabelModelRun
from weak_supervision.selectors import item_lf_votes_get, weak_labels_get
from weak_supervision.services.outputs import end_model_labels_store, run_outputs_store

pytestmark = pytest.mark.django_db


def _project() -> Project:
    project = ProjectFactory()
    for index in range(24):
        spam = index % 3 == 0
        text = (
            f"free prize {index}" if spam else f"home tonight {index}" if index % 3 == 1 else f"hello {index}"
        )
        item = ItemFactory(project=project, text=text, split=Split.TRAIN)
        if index < 12:
            AnnotationFactory(item=item, labels=["spam" if spam else "ham"])
    keyword_lf(project, "prize", "spam", "prize")
    keyword_lf(project, "free", "spam", "free")
    keyword_lf(project, "home", "ham", "home")
    return project


def _weak_rows(run: LabelModelRun) -> dict[int, tuple[str, float]]:
    return {row.item_id: (row.label, row.confidence) for row in ItemWeakLabel.objects.filter(run=run)}


def test_a_run_stores_its_weak_labels_and_votes_as_rows(start_run: Any) -> None:
    # when
    run = start_run(_project(), chunk_size=10)

    # then the rows say what the run's files say
    assert run.status == "succeeded", run.error
    answers = weak_labels_get(run=run)
    assert _weak_rows(run) == {item_id: (a.label, a.confidence) for item_id, a in answers.items()}
    names = {lf.pk: lf.name for lf in run.project.labeling_functions.all()}
    stored = {(row.item_id, names[row.labeling_function_id], row.label) for row in ItemLfVote.objects.all()}
    expected = {(item_id, vote.name, vote.vote) for item_id in answers
                for vote in item_lf_votes_get(run=run, item_id=item_id) if vote.vote}  # fmt: skip
    assert stored == expected
    assert len(stored) == 24  # 8 items with both spam words, 8 with "home"


def test_the_next_run_replaces_the_rows_and_an_older_run_stores_nothing(start_run: Any) -> None:
    # given two runs, the second after an item was deleted
    project = _project()
    first = start_run(project)
    Item.objects.filter(project=project, text="hello 2").delete()
    second = start_run(project)

    # when the first run's rows are stored again (a late task)
    stored = run_outputs_store(run=first)
    end_stored = end_model_labels_store(run=first)

    # then
    assert (stored, end_stored) == (0, 0)
    assert ItemWeakLabel.objects.filter(project=project).count() == 23
    assert set(ItemWeakLabel.objects.values_list("run_id", flat=True)) == {second.pk}
    assert set(ItemEndModelLabel.objects.values_list("run_id", flat=True)) <= {second.pk}


def test_the_end_models_labels_are_stored_where_it_answers(start_run: Any) -> None:
    # given a run whose end model was trained (the items carry enough labels)
    run = start_run(_project())

    # then every item it answered has its row, with its top label
    assert run.metrics["end_model"]["status"] == "succeeded"
    rows = dict(ItemEndModelLabel.objects.filter(run=run).values_list("item_id", "label"))
    assert len(rows) == 24
    answers = weak_labels_get(run=run, item_ids=list(rows))
    assert rows == {item_id: answer.end_model_label for item_id, answer in answers.items()}
