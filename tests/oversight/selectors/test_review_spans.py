"""What a reviewer of a span project sees, the feedback analysts get, and their quality on span gold checks."""

from __future__ import annotations

import pytest

from labeling.choices import GoldSource
from oversight.selectors.quality import annotator_quality_list
from oversight.selectors.review import review_context_get, review_feedback_list
from oversight.services.review import review_decide
from projects.choices import Role
from tests.labeling.factories import AnnotationFactory, GoldLabelFactory
from tests.oversight.factories import span_answer, span_project, spans_in
from tests.projects.factories import ItemFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

TEXT = "Ada Lovelace met Charles Babbage in London"


def test_the_review_context_carries_each_answers_spans_and_starts_from_the_majority() -> None:
    # given: two of three answers mark the same spans
    project = span_project()
    item = ItemFactory(project=project, text=TEXT)
    span_answer(item, UserFactory(username="ana"), ("London", "org"))
    agreed = [span_answer(item, UserFactory(username=name), ("Ada Lovelace", "per"), ("London", "loc"))
              for name in ("bob", "cleo")]  # fmt: skip

    # when
    context = review_context_get(project=project, item=item)
    body = context.to_json()

    # then
    assert context.suggested_spans == agreed[0].spans
    assert body["kind"] == "spans"
    assert [(row["annotator"], row["labels"], row["spans"]) for row in body["annotations"]] == [
        ("ana", ["org"], spans_in(TEXT, ("London", "org"))),
        ("bob", ["per", "loc"], agreed[0].spans),
        ("cleo", ["per", "loc"], agreed[1].spans),
    ]
    assert body["suggested_spans"] == agreed[0].spans


def test_with_a_gold_label_the_context_starts_from_the_gold_spans() -> None:
    # given
    project = span_project()
    item = ItemFactory(project=project, text=TEXT)
    span_answer(item, UserFactory(), ("London", "loc"))
    gold = spans_in(TEXT, ("London", "org"))
    GoldLabelFactory(item=item, labels=["org"], spans=gold, source=GoldSource.ADJUDICATED, is_check=False)

    # when
    body = review_context_get(project=project, item=item).to_json()

    # then
    assert body["suggested_spans"] == gold
    assert body["gold"]["spans"] == gold


def test_an_item_projects_context_has_no_span_keys() -> None:
    # given
    item = ItemFactory()

    # when
    body = review_context_get(project=item.project, item=item).to_json()

    # then
    assert "kind" not in body
    assert "suggested_spans" not in body


def test_feedback_on_spans_agrees_only_with_the_very_spans() -> None:
    # given: the reviewer keeps ana's types but moves a boundary on one item
    project = span_project()
    kept, moved = ItemFactory(project=project, text=TEXT), ItemFactory(project=project, text=TEXT)
    ana = UserFactory()
    answers = [span_answer(item, ana, ("Charles Babbage", "per")) for item in (kept, moved)]
    rita = UserFactory()
    review_decide(project=project, reviewer=rita, item_id=kept.pk, annotation_id=answers[0].pk)
    review_decide(project=project, reviewer=rita, item_id=moved.pk, spans=spans_in(TEXT, ("Babbage", "per")))

    # when
    rows = review_feedback_list(project=project, user=ana)

    # then
    assert {row.item_id: row.agreed for row in rows} == {kept.pk: True, moved.pk: False}
    assert all(row.your_labels == row.final_labels == ["per"] for row in rows)


def test_quality_scores_span_checks_by_f1_and_reports_the_mean() -> None:
    # given: three checks; ana gets two exactly and marks one span too many on the third (F1 2/3 there)
    project = span_project()
    ana = MembershipFactory(project=project, role=Role.ANALYST, user=UserFactory(username="ana")).user
    golds = [("Ada Lovelace", "per"), ("Charles Babbage", "per"), ("London", "loc")]
    items = [ItemFactory(project=project, text=TEXT) for _ in golds]
    for item, mark in zip(items, golds, strict=True):
        GoldLabelFactory(item=item, labels=[mark[1]], spans=spans_in(TEXT, mark), is_check=True)
    span_answer(items[0], ana, golds[0])
    span_answer(items[1], ana, ("Charles Babbage", "per"), ("London", "loc"))
    span_answer(items[2], ana, golds[2])

    # when
    [row] = annotator_quality_list(project=project, viewer=None)

    # then
    assert (row.checks_n, row.checks_correct, row.check_accuracy) == (3, 2, 0.6667)
    assert row.check_span_f1 == round((1 + 2 / 3 + 1) / 3, 4)
    assert (row.gold_n, row.gold_agreement) == (3, 0.6667)


def test_item_projects_have_no_span_f1_on_checks() -> None:
    # given
    item = ItemFactory()
    ana = MembershipFactory(project=item.project, role=Role.ANALYST).user
    GoldLabelFactory(item=item, labels=["spam"], is_check=True)
    AnnotationFactory(item=item, annotator=ana, labels=["spam"])

    # when
    [row] = annotator_quality_list(project=item.project, viewer=None)

    # then
    assert (row.checks_correct, row.check_span_f1) == (1, None)
