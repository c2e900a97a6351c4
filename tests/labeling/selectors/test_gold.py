"""Gold labels: the one label an item's annotations all agree on, unless a gold label decides it."""

from __future__ import annotations

import pytest

from labeling.models import GoldLabel
from labeling.selectors.gold import gold_labels
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def test_only_items_whose_annotations_agree_on_one_label_have_a_gold_label() -> None:
    # given items annotated in every way that matters
    project = ProjectFactory()
    answers = {
        "agreed": [["spam"], ["spam"], ["spam"]],
        "single": [["ham"]],
        "disagreed": [["spam"], ["ham"]],
        "two labels each": [["spam", "ham"], ["spam", "ham"]],
        "one with two labels": [["spam"], ["spam", "ham"]],
        "nothing chosen": [[]],
        "not annotated": [],
    }
    items = {}
    for name, label_lists in answers.items():
        items[name] = ItemFactory(project=project)
        for labels in label_lists:
            AnnotationFactory(item=items[name], labels=labels)
    decided = ItemFactory(project=project)
    AnnotationFactory(item=decided, labels=["spam"])
    AnnotationFactory(item=decided, labels=["ham"])
    GoldLabel.objects.create(project=project, item=decided, labels=["ham"])
    AnnotationFactory(labels=["spam"])  # another project's

    # when
    gold = gold_labels(project=project)
    some = gold_labels(project=project, item_ids=[items["agreed"].pk, items["disagreed"].pk])

    # then
    assert gold == {items["agreed"].pk: "spam", items["single"].pk: "ham", decided.pk: "ham"}
    assert some == {items["agreed"].pk: "spam"}
