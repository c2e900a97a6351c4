from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError

from core.exceptions import NotFoundError
from labeling.choices import EventType, GoldSource
from labeling.models import Flag, GoldLabel, InteractionEvent
from labeling.selectors.gold import gold_labels
from labeling.services.annotations import annotation_submit
from labeling.services.interactions import item_flag
from oversight.choices import ReviewReason
from oversight.models import ReviewRequest
from oversight.services.review import (
    LABEL_MODEL_REVIEW_LIMIT,
    KnownAnswer,
    audit_drawn,
    gold_checks_set,
    known_answers_parse,
    membership_review_all_set,
    review_decide,
    review_next,
    review_pass,
    review_queue_refresh,
    review_uncertain_add,
)
from projects.choices import Role
from projects.models import Membership, Project
from tests.labeling.factories import AnnotationFactory, GoldLabelFactory
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def quiet_project() -> Project:
    """Two annotations per item, and no random audit, so that only the reason under test queues an item."""
    return ProjectFactory(overlap=2, review_audit_rate=0.0)


def _submit(project: Project, user: object, item_id: int, labels: list[str]) -> None:
    annotation_submit(project=project, user=user, item_id=item_id, labels=labels, client_uuid=uuid.uuid4())  # type: ignore[arg-type]


def _open(project: Project) -> dict[int, list[str]]:
    return dict(
        ReviewRequest.objects.filter(project=project, status=ReviewRequest.Status.OPEN).values_list(
            "item_id", "reasons"
        )
    )


def test_a_second_answer_that_disagrees_sends_the_item_to_review_and_one_that_agrees_does_not(
    quiet_project: Project,
) -> None:
    # given
    agreed, disputed = ItemFactory.create_batch(2, project=quiet_project)
    alice, bob = UserFactory(), UserFactory()

    # when
    for user, labels in ((alice, ["spam"]), (bob, ["spam"])):
        _submit(quiet_project, user, agreed.pk, labels)
    for user, labels in ((alice, ["spam"]), (bob, ["ham"])):
        _submit(quiet_project, user, disputed.pk, labels)

    # then
    assert _open(quiet_project) == {disputed.pk: [ReviewReason.DISAGREEMENT]}


def test_a_flag_sends_the_item_to_review_with_its_comment(quiet_project: Project) -> None:
    # given
    item = ItemFactory(project=quiet_project)

    # when
    item_flag(project=quiet_project, user=UserFactory(), item_id=item.pk, comment="Not English")

    # then
    request = ReviewRequest.objects.get(item=item)
    assert (request.reasons, request.detail) == ([ReviewReason.FLAG], {"flag": {"comment": "Not English"}})


@pytest.mark.parametrize(("rate", "expected"), [(0.0, 0), (1.0, 200)])
def test_the_audit_draws_none_or_every_item_at_the_extreme_rates(rate: float, expected: int) -> None:
    # given
    project = ProjectFactory(review_audit_rate=rate)

    # when
    drawn = sum(audit_drawn(project=project, item_id=item_id) for item_id in range(200))

    # then
    assert drawn == expected


def test_the_audit_draws_about_its_rate_and_the_same_items_every_time() -> None:
    # given
    project = ProjectFactory(review_audit_rate=0.1)

    # when
    first = [item_id for item_id in range(5000) if audit_drawn(project=project, item_id=item_id)]
    again = [item_id for item_id in range(5000) if audit_drawn(project=project, item_id=item_id)]

    # then
    assert first == again
    assert 400 <= len(first) <= 600


def test_reasons_collect_on_one_open_request_most_important_first(quiet_project: Project) -> None:
    # given
    item = ItemFactory(project=quiet_project)
    alice, bob = UserFactory(), UserFactory()
    _submit(quiet_project, alice, item.pk, ["spam"])
    _submit(quiet_project, bob, item.pk, ["ham"])

    # when
    item_flag(project=quiet_project, user=bob, item_id=item.pk)
    item_flag(project=quiet_project, user=alice, item_id=item.pk)

    # then
    request = ReviewRequest.objects.get(item=item)
    assert request.reasons == [ReviewReason.FLAG, ReviewReason.DISAGREEMENT]
    assert request.priority == 50


def test_two_reviewers_are_handed_different_items_and_a_pass_leaves_it_to_the_other(
    quiet_project: Project,
) -> None:
    # given
    first, second = ItemFactory.create_batch(2, project=quiet_project)
    for item in (first, second):
        item_flag(project=quiet_project, user=UserFactory(), item_id=item.pk)
    ann, ben = UserFactory(), UserFactory()

    # when
    ann_claim = review_next(project=quiet_project, reviewer=ann)
    ben_claim = review_next(project=quiet_project, reviewer=ben)
    assert ann_claim is not None
    assert ben_claim is not None
    again = review_next(project=quiet_project, reviewer=ann)
    review_pass(project=quiet_project, reviewer=ann, item_id=first.pk)
    after_pass = review_next(project=quiet_project, reviewer=ann)

    # then
    assert (ann_claim.item.pk, ben_claim.item.pk) == (first.pk, second.pk)
    assert again is not None
    assert again.item.pk == first.pk
    assert after_pass is None  # the other item is Ben's, and Ann passed on hers
    assert review_next(project=quiet_project, reviewer=UserFactory()).item.pk == first.pk  # type: ignore[union-attr]


def test_a_decision_stores_the_gold_label_with_its_provenance_and_closes_the_request(
    quiet_project: Project,
) -> None:
    # given
    item = ItemFactory(project=quiet_project)
    alice, bob, reviewer = UserFactory(username="alice"), UserFactory(username="bob"), UserFactory()
    _submit(quiet_project, alice, item.pk, ["spam"])
    _submit(quiet_project, bob, item.pk, ["ham"])
    item_flag(project=quiet_project, user=bob, item_id=item.pk, comment="unsure")

    # when
    gold = review_decide(
        project=quiet_project,
        reviewer=reviewer,
        item_id=item.pk,
        labels=["spam"],
        note="Link to a prize",
        dwell_ms=900,
    )

    # then
    assert (gold.labels, gold.source, gold.decided_by, gold.note) == (
        ["spam"], GoldSource.ADJUDICATED, reviewer, "Link to a prize",
    )  # fmt: skip
    assert [(row["annotator"], row["labels"]) for row in gold.based_on] == [
        ("alice", ["spam"]),
        ("bob", ["ham"]),
    ]
    request = ReviewRequest.objects.get(item=item)
    assert (request.status, request.resolved_by) == (ReviewRequest.Status.RESOLVED, reviewer)
    assert Flag.objects.get(item=item).resolved_at is not None
    event = InteractionEvent.objects.get(type=EventType.REVIEW)
    assert event.payload["labels"] == ["spam"]
    assert event.payload["reasons"] == [ReviewReason.FLAG, ReviewReason.DISAGREEMENT]
    assert gold_labels(project=quiet_project) == {item.pk: "spam"}


def test_deciding_again_replaces_the_gold_label_and_keeps_the_previous_on_the_event(
    quiet_project: Project,
) -> None:
    # given
    item = ItemFactory(project=quiet_project)
    reviewer = UserFactory()
    review_decide(project=quiet_project, reviewer=reviewer, item_id=item.pk, labels=["spam"])

    # when
    review_decide(
        project=quiet_project, reviewer=reviewer, item_id=item.pk, labels=["ham"], use_as_check=True
    )

    # then
    gold = GoldLabel.objects.get(item=item)
    assert (gold.labels, gold.is_check) == (["ham"], True)
    assert InteractionEvent.objects.filter(type=EventType.REVIEW).last().payload["previous"] == ["spam"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("labels", "note", "message"),
    [
        (["eggs"], "", "Unknown label(s): eggs."),
        (["ham", "spam"], "", "This project takes exactly one label per item."),
        (["ham"], "x" * 4001, "A note may be at most 4000 characters."),
    ],
)
def test_a_bad_decision_is_refused_and_stores_nothing(
    quiet_project: Project, labels: list[str], note: str, message: str
) -> None:
    # given
    item = ItemFactory(project=quiet_project)

    # when
    with pytest.raises(ValidationError, match=re.escape(message)):
        review_decide(
            project=quiet_project, reviewer=UserFactory(), item_id=item.pk, labels=labels, note=note
        )

    # then
    assert not GoldLabel.objects.exists()


def test_known_answers_are_read_from_csv_with_their_line_numbers() -> None:
    # when
    answers = known_answers_parse('external_id,label\nm1,spam\n"m2",ham|spam\n')

    # then
    assert answers == [
        KnownAnswer(line=2, external_id="m1", labels=["spam"]),
        KnownAnswer(line=3, external_id="m2", labels=["ham", "spam"]),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id,label\nm1,spam\n", "The CSV needs the columns external_id and label (missing: external_id)."),
        ("external_id,label\nm1,\n", "Line 2: external_id and label may not be empty."),
        ("external_id,label\n", "No answers given."),
    ],
)
def test_bad_known_answer_csv_is_refused_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        known_answers_parse(text)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("m1", ["spam"]), ("nope", ["ham"])], "Line 3: no item with the external id 'nope'."),
        ([("m1", ["spam"]), ("m1", ["ham"])], "Line 3: the external id 'm1' appears twice."),
        ([("m1", ["spam"]), ("m2", ["eggs"])], "Line 3: Unknown label(s): eggs."),
    ],
)
def test_known_answers_are_all_or_nothing(
    project: Project, rows: list[tuple[str, list[str]]], message: str
) -> None:
    # given
    ItemFactory(project=project, external_id="m1")
    ItemFactory(project=project, external_id="m2")
    answers = [
        KnownAnswer(line=index, external_id=eid, labels=labels) for index, (eid, labels) in enumerate(rows, 2)
    ]

    # when
    with pytest.raises(ValidationError, match=re.escape(message)):
        gold_checks_set(project=project, answers=answers, by=None)

    # then
    assert not GoldLabel.objects.exists()


def test_known_answers_become_gold_checks_and_close_open_requests(project: Project) -> None:
    # given
    item = ItemFactory(project=project, external_id="m1")
    item_flag(project=project, user=UserFactory(), item_id=item.pk)

    # when
    stored = gold_checks_set(project=project, answers=[KnownAnswer(2, "m1", ["ham"])], by=None)

    # then
    assert stored == 1
    gold = GoldLabel.objects.get(item=item)
    assert (gold.labels, gold.source, gold.is_check) == (["ham"], GoldSource.KNOWN, True)
    assert _open(project) == {}


def test_sending_an_analysts_labels_to_review_queues_old_ones_and_every_new_one(
    quiet_project: Project, member_factory: Callable[..., Membership]
) -> None:
    # given
    member = member_factory(quiet_project, Role.ANALYST)
    old, new = ItemFactory.create_batch(2, project=quiet_project)
    _submit(quiet_project, member.user, old.pk, ["spam"])

    # when
    queued = membership_review_all_set(project=quiet_project, user_id=member.user_id, enabled=True)
    _submit(quiet_project, member.user, new.pk, ["ham"])

    # then
    assert queued == 1
    assert _open(quiet_project) == {old.pk: [ReviewReason.ANALYST], new.pk: [ReviewReason.ANALYST]}


def test_sending_a_non_members_labels_to_review_is_a_not_found(project: Project) -> None:
    with pytest.raises(NotFoundError, match="That user is not a member of this project."):
        membership_review_all_set(project=project, user_id=UserFactory().pk, enabled=True)


def test_an_analyst_who_fails_gold_checks_is_sent_to_review_when_the_project_asks_for_it(
    member_factory: Callable[..., Membership],
) -> None:
    # given
    project = ProjectFactory(
        review_audit_rate=0.0, gold_auto_review=True, gold_min_checks=4, gold_accuracy_threshold=0.75
    )
    member = member_factory(project, Role.ANALYST)
    checks = [GoldLabelFactory(item=ItemFactory(project=project), labels=["spam"]).item for _ in range(4)]

    # when: right, wrong, then right again; three checks are not enough to judge
    for item, label in zip(checks[:3], ["spam", "ham", "spam"], strict=True):
        _submit(project, member.user, item.pk, [label])
    member.refresh_from_db()
    before = member.review_all_labels
    _submit(project, member.user, checks[3].pk, ["ham"])  # 2 of 4 = 50% < 75%

    # then
    member.refresh_from_db()
    assert (before, member.review_all_labels) == (False, True)


def test_the_queue_refresh_finds_what_predates_it_and_is_idempotent(quiet_project: Project) -> None:
    # given: imported annotations that disagree, and a flag written before the queue existed
    disputed, flagged, calm = ItemFactory.create_batch(3, project=quiet_project)
    AnnotationFactory(item=disputed, labels=["spam"], annotator=None, external_annotator="a")
    AnnotationFactory(item=disputed, labels=["ham"], annotator=None, external_annotator="b")
    AnnotationFactory(item=calm, labels=["ham"])
    Flag.objects.create(project=quiet_project, item=flagged, comment="")

    # when
    first = review_queue_refresh(project=quiet_project)
    second = review_queue_refresh(project=quiet_project)

    # then
    assert first == {"disagreement": 1, "flag": 1, "audit": 0, "analyst": 0, "label_model": 0}
    assert second == {"disagreement": 0, "flag": 0, "audit": 0, "analyst": 0, "label_model": 0}
    assert _open(quiet_project) == {disputed.pk: ["disagreement"], flagged.pk: ["flag"]}


def test_items_the_label_model_doubts_are_queued_least_sure_first_up_to_the_limit(project: Project) -> None:
    # given
    items = ItemFactory.create_batch(3, project=project)
    confidences = {items[0].pk: 0.9, items[1].pk: 0.51, items[2].pk: 0.55}

    # when
    added = review_uncertain_add(project=project, confidences=confidences)

    # then
    assert added == 2
    requests = ReviewRequest.objects.filter(project=project).order_by("id")
    assert [(r.item_id, r.detail["label_model"]["confidence"]) for r in requests] == [
        (items[1].pk, 0.51), (items[2].pk, 0.55),
    ]  # fmt: skip
    assert LABEL_MODEL_REVIEW_LIMIT == 500


def test_items_with_a_gold_label_are_not_queued_again(quiet_project: Project) -> None:
    # given
    item = ItemFactory(project=quiet_project)
    review_decide(project=quiet_project, reviewer=UserFactory(), item_id=item.pk, labels=["ham"])

    # when
    item_flag(project=quiet_project, user=UserFactory(), item_id=item.pk)

    # then
    assert _open(quiet_project) == {}
    assert ReviewRequest.objects.filter(item=item).count() == 0
