"""Review of span projects: gold spans decided (given or accepted), checked, with provenance; span disagreement
sends items to review; gold checks scored by span F1."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from labeling.choices import EventType, GoldSource
from labeling.models import GoldLabel, InteractionEvent
from labeling.services.annotations import annotation_submit
from oversight.choices import ReviewReason
from oversight.models import ReviewRequest
from oversight.services.review import gold_check_counts, review_decide, review_queue_refresh
from oversight.services.review_spans import (
    ERROR_ANSWER_UNKNOWN,
    ERROR_SPANS_BOTH,
    ERROR_SPANS_MISSING,
    ERROR_SPANS_ONLY,
)
from projects.models import Project
from tests.labeling.factories import GoldLabelFactory
from tests.oversight.factories import span_answer, span_project, spans_in
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

TEXT = "Ada Lovelace met Charles Babbage in London"


def _open(project: Project) -> dict[int, list[str]]:
    return dict(
        ReviewRequest.objects.filter(project=project, status=ReviewRequest.Status.OPEN).values_list(
            "item_id", "reasons"
        )
    )


def test_a_decision_with_spans_stores_them_as_gold_with_the_types_and_the_answers_seen() -> None:
    # given: two answers that disagree on where Babbage's name starts
    project = span_project()
    item = ItemFactory(project=project, text=TEXT)
    alice, bob, rita = (
        UserFactory(username="alice"),
        UserFactory(username="bob"),
        UserFactory(username="rita"),
    )
    first = span_answer(item, alice, ("Ada Lovelace", "per"), ("Babbage", "per"))
    second = span_answer(item, bob, ("Ada Lovelace", "per"), ("Charles Babbage", "per"), ("London", "loc"))
    ReviewRequest.objects.create(project=project, item=item, reasons=[ReviewReason.DISAGREEMENT])
    decided = spans_in(TEXT, ("London", "loc"), ("Ada Lovelace", "per"), ("Charles Babbage", "per"))

    # when: given out of text order, with a type in another case
    given = [{**span, "label": span["label"].upper()} for span in decided]
    gold = review_decide(project=project, reviewer=rita, item_id=item.pk, spans=given, note="full names")

    # then
    gold.refresh_from_db()
    assert gold.spans == sorted(decided, key=lambda span: span["start"])
    assert gold.labels == ["per", "loc"]  # schema order
    assert (gold.source, gold.decided_by, gold.note) == (GoldSource.ADJUDICATED, rita, "full names")
    assert [(row["annotation_id"], row["annotator"], row["spans"]) for row in gold.based_on] == [
        (first.pk, "alice", first.spans),
        (second.pk, "bob", second.spans),
    ]
    assert _open(project) == {}
    event = InteractionEvent.objects.get(item=item, type=EventType.REVIEW)
    assert event.payload["spans"] == gold.spans
    assert (event.payload["previous_spans"], event.payload["accepted"]) == (None, None)


def test_accepting_an_answer_copies_its_spans_and_an_empty_list_means_no_entities() -> None:
    # given
    project = span_project()
    item, empty = ItemFactory(project=project, text=TEXT), ItemFactory(project=project, text="nothing here")
    answer = span_answer(item, UserFactory(), ("Ada Lovelace", "per"), ("London", "loc"))
    span_answer(item, UserFactory(), ("London", "loc"))
    rita = UserFactory()

    # when
    accepted = review_decide(project=project, reviewer=rita, item_id=item.pk, annotation_id=answer.pk)
    nothing = review_decide(project=project, reviewer=rita, item_id=empty.pk, spans=[])

    # then
    assert (accepted.spans, accepted.labels) == (answer.spans, ["per", "loc"])
    assert (nothing.spans, nothing.labels) == ([], [])
    event = InteractionEvent.objects.filter(item=item, type=EventType.REVIEW).get()
    assert event.payload["accepted"] == answer.pk


def test_deciding_again_keeps_the_previous_spans_on_the_event() -> None:
    # given
    project = span_project()
    item = ItemFactory(project=project, text=TEXT)
    rita = UserFactory()
    first = spans_in(TEXT, ("London", "loc"))
    review_decide(project=project, reviewer=rita, item_id=item.pk, spans=first)

    # when
    review_decide(project=project, reviewer=rita, item_id=item.pk, spans=spans_in(TEXT, ("London", "org")))

    # then
    assert GoldLabel.objects.get(item=item).labels == ["org"]
    latest = InteractionEvent.objects.filter(item=item, type=EventType.REVIEW).order_by("-id").first()
    assert latest is not None
    assert latest.payload["previous_spans"] == first


def _span(start: int, end: int, label: str = "per", text: str | None = None) -> dict[str, Any]:
    return {"start": start, "end": end, "label": label, "text": TEXT[start:end] if text is None else text}


@pytest.mark.parametrize(
    ("spans", "message"),
    [
        ([_span(36, 43, text="London")], "is not inside the text"),
        ([_span(5, 3, text="")], "is not inside the text"),
        ([_span(0, 3, text="Bob")], "is not the text at 0-3"),
        ([_span(0, 3, label="animal")], "'animal' is not an entity type"),
        ([_span(0, 12), _span(4, 12)], "Spans 1 and 2 overlap"),
        ([_span(0, 3), _span(0, 3)], "Spans 1 and 2 are the same span"),
        ([{"start": "0", "end": 3, "label": "per"}], "must be whole numbers"),
        ("Ada", "must be a list"),
    ],
)
def test_bad_spans_are_refused_and_nothing_changes(spans: Any, message: str) -> None:
    # given
    project = span_project()
    item = ItemFactory(project=project, text=TEXT)
    span_answer(item, UserFactory(), ("Ada", "per"))
    ReviewRequest.objects.create(project=project, item=item, reasons=[ReviewReason.DISAGREEMENT])

    # when
    with pytest.raises(ValidationError) as caught:
        review_decide(project=project, reviewer=UserFactory(), item_id=item.pk, spans=spans)

    # then
    assert message in caught.value.messages[0]
    assert not GoldLabel.objects.filter(item=item).exists()
    assert _open(project) == {item.pk: [ReviewReason.DISAGREEMENT]}


def test_overlapping_spans_are_kept_where_the_project_allows_them() -> None:
    # given
    project = span_project(allow_overlapping_spans=True)
    item = ItemFactory(project=project, text=TEXT)

    # when
    gold = review_decide(
        project=project, reviewer=UserFactory(), item_id=item.pk, spans=[_span(4, 12), _span(0, 12)]
    )

    # then: in text order, the longer first at one start
    assert [(span["start"], span["end"]) for span in gold.spans] == [(0, 12), (4, 12)]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, ERROR_SPANS_MISSING),
        ({"spans": [], "annotation_id": "answer"}, ERROR_SPANS_BOTH),
        ({"annotation_id": "elsewhere"}, ERROR_ANSWER_UNKNOWN.split("{")[0]),
    ],
)
def test_a_span_decision_needs_spans_or_one_answer_of_the_item(
    arguments: dict[str, Any], message: str
) -> None:
    # given
    project = span_project()
    item, other = ItemFactory(project=project, text=TEXT), ItemFactory(project=project, text=TEXT)
    answers = {"answer": span_answer(item, UserFactory(), ("Ada", "per")).pk,
               "elsewhere": span_answer(other, UserFactory(), ("Ada", "per")).pk}  # fmt: skip
    given = {
        key: answers.get(value, value) if key == "annotation_id" else value
        for key, value in arguments.items()
    }

    # when
    with pytest.raises(ValidationError) as caught:
        review_decide(project=project, reviewer=UserFactory(), item_id=item.pk, **given)

    # then
    assert caught.value.messages[0].startswith(message)
    assert not GoldLabel.objects.filter(item=item).exists()


def test_an_item_project_refuses_spans() -> None:
    # given
    project = ProjectFactory()
    item = ItemFactory(project=project)

    # when
    with pytest.raises(ValidationError) as caught:
        review_decide(project=project, reviewer=UserFactory(), item_id=item.pk, labels=["spam"], spans=[])

    # then
    assert caught.value.messages == [ERROR_SPANS_ONLY]
    assert not GoldLabel.objects.filter(item=item).exists()


def _submit(project: Project, user: object, item_id: int, spans: list[Any]) -> None:
    annotation_submit(
        project=project,
        user=user,
        item_id=item_id,
        labels=[],
        spans=spans,
        client_uuid=uuid.uuid4(),  # type: ignore[arg-type]
    )


def test_answers_with_the_same_types_but_other_spans_disagree() -> None:
    # given
    project = span_project(overlap=2)
    same, moved = ItemFactory(project=project, text=TEXT), ItemFactory(project=project, text=TEXT)
    alice, bob = UserFactory(), UserFactory()

    # when
    for item in (same, moved):
        _submit(project, alice, item.pk, spans_in(TEXT, ("Charles Babbage", "per")))
    _submit(project, bob, same.pk, spans_in(TEXT, ("Charles Babbage", "per")))
    _submit(project, bob, moved.pk, spans_in(TEXT, ("Babbage", "per")))

    # then
    assert _open(project) == {moved.pk: [ReviewReason.DISAGREEMENT]}


def test_the_queue_rebuild_finds_span_disagreements() -> None:
    # given: stored answers (an import's), none queued yet
    project = span_project()
    same, moved = ItemFactory(project=project, text=TEXT), ItemFactory(project=project, text=TEXT)
    for user in (UserFactory(), UserFactory()):
        span_answer(same, user, ("London", "loc"))
    span_answer(moved, UserFactory(), ("London", "loc"))
    span_answer(moved, UserFactory(), ("London", "org"))

    # when
    counts = review_queue_refresh(project=project)

    # then
    assert counts[ReviewReason.DISAGREEMENT] == 1
    assert _open(project) == {moved.pk: [ReviewReason.DISAGREEMENT]}


def test_gold_checks_on_spans_pass_only_with_the_very_spans() -> None:
    # given: three checks; the analyst gets one exactly, cuts one short, and leaves an empty one empty
    project = span_project()
    exact, short, empty = (ItemFactory(project=project, text=TEXT) for _ in range(3))
    GoldLabelFactory(item=exact, labels=["per"], spans=spans_in(TEXT, ("Ada Lovelace", "per")))
    GoldLabelFactory(item=short, labels=["per"], spans=spans_in(TEXT, ("Charles Babbage", "per")))
    GoldLabelFactory(item=empty, labels=[], spans=[])
    analyst = UserFactory()
    span_answer(exact, analyst, ("Ada Lovelace", "per"))
    span_answer(short, analyst, ("Babbage", "per"))
    span_answer(empty, analyst)

    # when
    answered, correct = gold_check_counts(project=project, user_id=analyst.pk)

    # then
    assert (answered, correct) == (3, 2)


def test_truth_inference_and_label_error_scans_refuse_span_projects() -> None:
    from oversight.services.label_errors import label_error_scan_start
    from oversight.services.truth import ERROR_SPANS, inference_run_start, inference_signal
    from projects.choices import ProjectKind
    from tests.projects.factories import ProjectFactory

    project = ProjectFactory(kind=ProjectKind.SPANS, labels=["per", "loc"])
    with pytest.raises(ValidationError) as raised:
        inference_run_start(project=project, user=None)
    assert raised.value.messages == [ERROR_SPANS]
    with pytest.raises(ValidationError, match="Label-error scans check item labels"):
        label_error_scan_start(project=project, user=None)
    assert inference_signal(project=project) is False


def test_the_item_browsers_disagreement_filter_and_sort_compare_spans() -> None:
    from oversight.selectors.items import by_disagreement, disagreeing_ids
    from projects.choices import ProjectKind
    from projects.models import Item
    from tests.labeling.factories import AnnotationFactory
    from tests.projects.factories import ItemFactory, ProjectFactory

    # given two items each answered twice with the same types: one with the same spans, one not
    project = ProjectFactory(kind=ProjectKind.SPANS, labels=["per", "loc"])
    agreed, differ = (
        ItemFactory(project=project, text="Ada Lovelace"),
        ItemFactory(project=project, text="Ada Lovelace"),
    )
    ada = {"start": 0, "end": 3, "label": "per", "text": "Ada"}
    full = {"start": 0, "end": 12, "label": "per", "text": "Ada Lovelace"}
    for item, answers in ((agreed, ([ada], [ada])), (differ, ([ada], [full]))):
        for spans in answers:
            AnnotationFactory(item=item, labels=["per"], spans=spans)

    # then only the second disagrees
    assert set(disagreeing_ids(project=project).values_list("item_id", flat=True)) == {differ.pk}
    ranked = by_disagreement(Item.objects.filter(project=project), project=project)
    assert list(ranked.values_list("pk", flat=True)) == [differ.pk]
