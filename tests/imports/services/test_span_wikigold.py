"""The real WRENCH wikigold folder (../shared/data/ner/wrench_wikigold) imported into a span project on SQLite:
its sentences, gold entities per split, and the 16 LFs' spans. Skips where the shared data is absent."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.db.models import Count

from imports.services.jobs import import_options_build, items_import
from labeling.models import EvaluationLabel, GoldLabel
from projects.choices import ImportFormat, ProjectKind
from projects.models import Item
from tests.projects.factories import ProjectFactory
from weak_supervision.models import ExternalSpanVote, LabelingFunction

pytestmark = pytest.mark.django_db


def test_the_wikigold_wrench_folder_imports_with_its_gold_spans_and_lf_spans(shared_data: Path) -> None:
    # given
    folder = shared_data / "ner" / "wrench_wikigold"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    project = ProjectFactory(kind=ProjectKind.SPANS, labels=["per", "loc", "org", "misc"])

    # when
    began = time.perf_counter()
    result = items_import(
        project=project, source=folder, options=import_options_build(format=ImportFormat.WRENCH)
    )
    seconds = time.perf_counter() - began

    # then
    splits = dict(Item.objects.filter(project=project).values_list("split").annotate(n=Count("id")))
    assert splits == {"train": 1355, "valid": 169, "test": 170}
    evaluation = dict.fromkeys(("train", "test"), 0)
    for split, spans in EvaluationLabel.objects.filter(project=project).values_list("item__split", "spans"):
        evaluation[split] += len(spans)
    gold = sum(
        len(spans) for spans in GoldLabel.objects.filter(project=project).values_list("spans", flat=True)
    )
    assert evaluation == {"train": 2857, "test": 375}
    assert gold == 326
    assert (result.rows, result.evaluation_labels, result.gold_labels) == (1694, 1525, 169)
    assert result.labeling_functions == 16
    assert LabelingFunction.objects.filter(project=project).count() == 16
    assert result.votes_imported == ExternalSpanVote.objects.filter(item__project=project).count() > 0
    item = Item.objects.get(project=project, external_id="train-0")
    assert item.text.startswith("Gradsky has also performed as a tenor at New York City 's Carnegie Hall")
    assert item.token_offsets[:2] == [[0, 7], [8, 11]]
    assert EvaluationLabel.objects.get(item=item).spans[0] == {
        "start": 0,
        "end": 7,
        "label": "per",
        "text": "Gradsky",
    }
    print(f"wikigold: {result.rows} sentences in {seconds:.2f} s ({result.rows / seconds:.0f} per second)")
