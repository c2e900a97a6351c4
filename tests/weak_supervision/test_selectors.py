"""The weak-supervision reads: LF and run lists scoped to their project, a finished run's files read back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.exceptions import ValidationError

from core.exceptions import NotFoundError
from projects.choices import Split
from projects.models import Item, Project
from tests.labeling.factories import AnnotationFactory, GoldLabelFactory
from tests.projects.factories import ItemFactory, ProjectFactory
from tests.weak_supervision.factories import keyword_lf, regex_lf
from weak_supervision.choices import RunStatus
from weak_supervision.models import LabelModelRun, RunChunk
from weak_supervision.selectors import (
    chunk_load,
    chunk_load_coded,
    end_model_probabilities_get,
    item_lf_votes_get,
    labeling_function_get,
    labeling_function_list,
    labeling_function_preview,
    latest_run,
    preview_sample,
    run_get,
    run_list,
    run_probabilities_get,
    run_progress,
    weak_labels_get,
)
from weak_supervision.services.runs import run_start

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def start_run(django_capture_on_commit_callbacks: Any) -> Any:
    """run_start with the work it hands to Celery on commit carried out before it returns."""

    def start(project: Project, **options: Any) -> LabelModelRun:
        with django_capture_on_commit_callbacks(execute=True):
            run = run_start(project=project, user=None, **options)
        run.refresh_from_db()
        return run

    return start


def _spam_project(items: int = 12) -> Project:
    """Every third item is spam ("free prize"), the others ham ("home tonight"); three LFs cover them all."""
    project = ProjectFactory()
    for index in range(items):
        spam = index % 3 == 0
        text = f"WIN a free prize, call 0800{index:04d} now" if spam else f"see you at home tonight {index}"
        item = ItemFactory(project=project, text=text, split=Split.TEST if index % 2 else Split.TRAIN)
        AnnotationFactory(item=item, labels=["spam" if spam else "ham"])
    keyword_lf(project, "prize", "spam", "prize", "free")
    regex_lf(project, "phone", "spam", r"\d{6,}")
    keyword_lf(project, "home", "ham", "home", "tonight")
    return project


def _texts(project: Project) -> dict[int, str]:
    return dict(Item.objects.filter(project=project).values_list("pk", "text"))


def test_labeling_functions_are_listed_by_name_and_only_the_projects_own() -> None:
    # given
    project = ProjectFactory()
    zeta = keyword_lf(project, "zeta", "spam", "zeta")
    alpha = keyword_lf(project, "alpha", "ham", "alpha")
    other = keyword_lf(ProjectFactory(), "other", "spam", "other")

    # when
    listed = list(labeling_function_list(project=project))

    # then
    assert listed == [alpha, zeta]
    assert listed[0].current_version is not None
    assert listed[0].current_version.label == "ham"
    assert labeling_function_get(project=project, lf_id=zeta.pk) == zeta
    with pytest.raises(NotFoundError, match="Labeling function not found."):
        labeling_function_get(project=project, lf_id=other.pk)


def test_runs_are_listed_newest_first_and_the_latest_is_the_newest_succeeded(start_run: Any) -> None:
    # given two finished runs, then a failed one, and another project's run
    project = _spam_project()
    first, second = start_run(project), start_run(project)
    failed = LabelModelRun.objects.create(project=project, number=3, status=RunStatus.FAILED)
    other = start_run(_spam_project(6))

    # when
    listed = list(run_list(project=project))

    # then
    assert [run.number for run in listed] == [3, 2, 1]
    assert (first.status, second.status) == (RunStatus.SUCCEEDED, RunStatus.SUCCEEDED)
    assert latest_run(project=project) == second
    assert run_get(project=project, number=3) == failed
    assert other not in listed
    with pytest.raises(NotFoundError, match="Run not found."):
        run_get(project=project, number=4)
    assert latest_run(project=ProjectFactory()) is None


def test_run_progress_counts_chunks_and_is_full_once_the_run_succeeded(start_run: Any) -> None:
    # given a finished run of three chunks, and a run that has none done yet
    project = _spam_project()
    run = start_run(project, chunk_size=5)
    waiting = LabelModelRun.objects.create(
        project=project, number=run.number + 1, status=RunStatus.RUNNING, chunks=[[1, 5], [6, 9], [10, 12]]
    )

    # when
    done = run_progress(run=run)
    pending = run_progress(run=waiting)

    # then
    assert done == {"chunks_done": 3, "chunks": 3, "fraction": 1.0, "percent": 100}
    assert pending == {"chunks_done": 0, "chunks": 3, "fraction": 0.0, "percent": 0}


def test_a_finished_runs_probabilities_and_weak_labels_are_read_back(start_run: Any) -> None:
    # given
    project = _spam_project()
    run = start_run(project, chunk_size=5)
    texts = _texts(project)
    spam_id = next(pk for pk, text in texts.items() if "prize" in text)
    ham_id = next(pk for pk, text in texts.items() if "home" in text)

    # when
    loaded = run_probabilities_get(run=run)
    everything = weak_labels_get(run=run)
    two = weak_labels_get(run=run, item_ids=[spam_id, ham_id, 10**9])

    # then
    assert loaded is not None
    ids, probabilities, covered = loaded
    assert ids.tolist() == sorted(texts)
    assert probabilities.shape == (12, 2)
    assert covered.all()
    assert sorted(everything) == sorted(texts)
    assert sorted(two) == sorted([spam_id, ham_id])
    assert (two[spam_id].label, two[spam_id].labels) == ("spam", ["spam"])
    assert (two[ham_id].label, two[ham_id].labels) == ("ham", ["ham"])
    assert two[spam_id].confidence > 0.5
    assert set(two[spam_id].probabilities) == set(run.labels)


def test_a_run_without_files_has_no_probabilities_weak_labels_or_end_model() -> None:
    # given a run that never finished
    run = LabelModelRun.objects.create(project=ProjectFactory(), number=1, status=RunStatus.FAILED)

    # then
    assert run_probabilities_get(run=run) is None
    assert weak_labels_get(run=run) == {}
    assert end_model_probabilities_get(run=run) is None
    assert item_lf_votes_get(run=run, item_id=1) == []


def test_each_lfs_vote_on_an_item_is_read_from_its_chunk(start_run: Any) -> None:
    # given
    project = _spam_project()
    run = start_run(project, chunk_size=5)
    texts = _texts(project)
    spam_id = next(pk for pk, text in texts.items() if "prize" in text)
    ham_id = next(pk for pk, text in texts.items() if "home" in text)

    # when
    spam_votes = {vote.name: vote.vote for vote in item_lf_votes_get(run=run, item_id=spam_id)}
    ham_votes = {vote.name: vote.vote for vote in item_lf_votes_get(run=run, item_id=ham_id)}

    # then (an LF that abstained votes blank)
    assert spam_votes == {"home": "", "phone": "spam", "prize": "spam"}
    assert ham_votes == {"home": "ham", "phone": "", "prize": ""}
    assert item_lf_votes_get(run=run, item_id=10**9) == []


def test_a_chunk_file_reads_back_its_items_votes_and_splits(start_run: Any) -> None:
    # given
    project = _spam_project()
    run = start_run(project, chunk_size=20)
    stored = RunChunk.objects.get(run=run)
    splits = dict(Item.objects.filter(project=project).values_list("pk", "split"))

    # when
    ids, votes, names = chunk_load(stored.path)
    coded_ids, coded_votes, codes, split_names = chunk_load_coded(stored.path)

    # then
    assert ids.tolist() == sorted(splits)
    assert votes.shape == (12, 3)
    assert set(np.unique(votes).tolist()) <= {-1, 0, 1}
    assert names.tolist() == [splits[pk] for pk in ids.tolist()]
    assert coded_ids.tolist() == ids.tolist()
    assert np.array_equal(coded_votes, votes)
    assert [split_names[code] for code in codes.tolist()] == names.tolist()


def test_the_preview_sample_is_the_projects_items_in_id_order() -> None:
    # given
    project = ProjectFactory()
    items = [ItemFactory(project=project, metadata={"n": n}) for n in range(3)]
    ItemFactory()  # another project's

    # when
    sample = preview_sample(project)

    # then
    assert sample == [(item.pk, item.external_id, item.text, {"n": n}) for n, item in enumerate(items)]


def test_a_preview_measures_coverage_overlaps_conflicts_and_accuracy_on_gold() -> None:
    # given four items, one gold label that the rule gets right and one it gets wrong, and another LF
    project = ProjectFactory()
    prize = ItemFactory(project=project, text="free prize now")
    home_prize = ItemFactory(project=project, text="a prize at home")
    ItemFactory(project=project, text="see you at home")
    ItemFactory(project=project, text="nothing here")
    GoldLabelFactory(item=prize, labels=["spam"])
    GoldLabelFactory(item=home_prize, labels=["ham"])
    keyword_lf(project, "home", "ham", "home")
    ItemFactory(text="prize prize prize")  # another project's

    # when
    preview = labeling_function_preview(
        project=project, kind="keyword", spec={"keywords": ["prize"]}, label="spam"
    )

    # then
    assert (preview["sample_size"], preview["matched"], preview["coverage"]) == (4, 2, 0.5)
    assert (preview["overlaps"], preview["conflicts"]) == (0.25, 0.25)
    assert (preview["gold_judged"], preview["correct"], preview["incorrect"]) == (2, 1, 1)
    assert preview["empirical_accuracy"] == 0.5
    assert [match["item_id"] for match in preview["matches"]] == [prize.pk, home_prize.pk]
    assert (preview["matches"][0]["start"], preview["matches"][0]["end"]) == (5, 10)


def test_a_preview_refuses_a_label_the_project_does_not_have() -> None:
    # given
    project = ProjectFactory()
    ItemFactory(project=project)

    # when / then
    with pytest.raises(ValidationError, match="'eggs' is not a label of this project"):
        labeling_function_preview(project=project, kind="keyword", spec={"keywords": ["x"]}, label="eggs")
