"""The review reads: what a reviewer sees for an item, the queue and its counts, feedback and gold labels."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from labeling.choices import GoldSource
from labeling.models import Flag, Rationale
from oversight.choices import ReviewReason
from oversight.models import ReviewRequest
from oversight.selectors.review import (
    gold_label_list,
    review_context_get,
    review_feedback_list,
    review_queue_counts,
    review_request_list,
)
from tests.labeling.factories import AnnotationFactory, GoldLabelFactory
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory
from tests.weak_supervision.factories import keyword_lf
from weak_supervision.services.runs import run_start

pytestmark = pytest.mark.django_db
OPEN, RESOLVED = ReviewRequest.Status.OPEN, ReviewRequest.Status.RESOLVED


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_the_context_holds_the_items_answers_flags_request_and_the_majority_as_suggestion() -> None:
    # given two answers of spam, one of ham (with a rationale), an open flag, and a request
    project = ProjectFactory()
    item = ItemFactory(project=project, text="free prize", metadata={"source": "mail"})
    alice, bob, carol = (UserFactory(username=name) for name in ("alice", "bob", "carol"))
    AnnotationFactory(item=item, annotator=alice, labels=["spam"])
    AnnotationFactory(item=item, annotator=bob, labels=["spam"])
    ham = AnnotationFactory(item=item, annotator=carol, labels=["ham"], lead_time_ms=1200)
    Rationale.objects.create(
        project=project, annotation=ham, item=item, label="ham", start=0, end=4, quote="free"
    )
    Flag.objects.create(project=project, item=item, user=bob, comment="unclear")
    AnnotationFactory(labels=["ham"])  # another item's
    request = ReviewRequest.objects.create(
        project=project, item=item, reasons=[ReviewReason.DISAGREEMENT], detail={"disagreement": {"n": 3}}
    )

    # when
    context = review_context_get(project=project, item=item, request=request)
    as_json = context.to_json()

    # then
    assert [(a.annotator, a.labels) for a in context.annotations] == [
        ("alice", ["spam"]),
        ("bob", ["spam"]),
        ("carol", ["ham"]),
    ]
    assert context.annotations[2].lead_time_ms == 1200
    assert context.annotations[2].rationales == [{"start": 0, "end": 4, "quote": "free", "label": "ham"}]
    assert context.suggested == ["spam"]
    assert (context.reasons, context.reason_names) == (["disagreement"], ["Annotators disagree"])
    assert context.detail == {"disagreement": {"n": 3}}
    assert [(f["user"], f["comment"], f["open"]) for f in context.flags] == [("bob", "unclear", True)]
    assert (context.gold, context.weak_label, context.lf_votes, context.run_number) == (None, None, [], None)
    assert as_json["item"] == {
        "id": item.pk, "external_id": item.external_id, "text": "free prize", "metadata": {"source": "mail"},
        "split": item.split,
    }  # fmt: skip
    assert as_json["gold"] is None


def test_a_gold_label_is_the_suggestion_and_a_finished_run_adds_its_weak_label_and_votes(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a decided item and a finished run of three LFs
    project = ProjectFactory()
    item = ItemFactory(project=project, text="free prize now")
    for n in range(4):
        ItemFactory(project=project, text=f"at home {n}")
    AnnotationFactory(item=item, labels=["spam"])
    reviewer = UserFactory(username="rita")
    GoldLabelFactory(
        item=item, labels=["ham"], source=GoldSource.ADJUDICATED, decided_by=reviewer, note="joke"
    )
    keyword_lf(project, "prize", "spam", "prize")
    keyword_lf(project, "free", "spam", "free")
    keyword_lf(project, "home", "ham", "home")
    with django_capture_on_commit_callbacks(execute=True):
        run = run_start(project=project, user=None)

    # when
    context = review_context_get(project=project, item=item)

    # then
    assert context.suggested == ["ham"]
    assert context.to_json()["gold"]["decided_by"] == "rita"
    assert context.to_json()["gold"]["note"] == "joke"
    assert (context.reasons, context.detail) == ([], {})
    assert context.run_number == run.number
    assert context.weak_label is not None
    assert context.weak_label["label"] == "spam"
    assert {vote.name: vote.vote for vote in context.lf_votes} == {
        "free": "spam",
        "home": "",
        "prize": "spam",
    }


def test_the_request_list_is_by_status_highest_priority_first_and_only_the_projects_own() -> None:
    # given
    project = ProjectFactory()
    low = ReviewRequest.objects.create(project=project, item=ItemFactory(project=project), priority=1)
    high = ReviewRequest.objects.create(project=project, item=ItemFactory(project=project), priority=5)
    done = ReviewRequest.objects.create(project=project, item=ItemFactory(project=project), status=RESOLVED)
    other = ItemFactory()
    ReviewRequest.objects.create(project=other.project, item=other, priority=9)

    # then
    assert list(review_request_list(project=project)) == [high, low]
    assert list(review_request_list(project=project, status=RESOLVED)) == [done]


def test_queue_counts_count_each_reason_of_the_open_requests() -> None:
    # given
    project = ProjectFactory()
    for reasons, status in [
        ([ReviewReason.FLAG, ReviewReason.DISAGREEMENT], OPEN),
        ([ReviewReason.FLAG], OPEN),
        ([ReviewReason.AUDIT], RESOLVED),
    ]:
        ReviewRequest.objects.create(
            project=project, item=ItemFactory(project=project), reasons=reasons, status=status
        )
    other = ItemFactory()
    ReviewRequest.objects.create(project=other.project, item=other, reasons=[ReviewReason.MANUAL])

    # when
    counts = review_queue_counts(project=project)

    # then
    assert counts == {
        "open": 2, "resolved": 1, "analyst": 0, "flag": 2, "disagreement": 1, "label_model": 0, "audit": 0,
        "manual": 0, "inferred_differs": 0, "low_posterior": 0, "label_error": 0,
    }  # fmt: skip


def test_feedback_is_the_analysts_own_adjudicated_items_latest_first() -> None:
    # given an analyst whose answer on one item was overturned and on another upheld
    project = ProjectFactory()
    analyst, reviewer = UserFactory(username="ann"), UserFactory(username="rev")
    overturned, upheld, not_mine, known = (ItemFactory(project=project) for _ in range(4))
    AnnotationFactory(item=overturned, annotator=analyst, labels=["spam"])
    AnnotationFactory(item=upheld, annotator=analyst, labels=["ham"])
    AnnotationFactory(item=known, annotator=analyst, labels=["ham"])
    AnnotationFactory(item=not_mine, labels=["ham"])
    first = GoldLabelFactory(item=upheld, labels=["ham"], source=GoldSource.ADJUDICATED, decided_by=reviewer)
    GoldLabelFactory(
        item=overturned, labels=["ham"], source=GoldSource.ADJUDICATED, decided_by=reviewer, note="n"
    )
    GoldLabelFactory(item=not_mine, labels=["spam"], source=GoldSource.ADJUDICATED, decided_by=reviewer)
    GoldLabelFactory(item=known, labels=["spam"], source=GoldSource.KNOWN)  # not a review
    type(first).objects.filter(pk=first.pk).update(updated_at=timezone.now() - timedelta(hours=1))

    # when
    feedback = review_feedback_list(project=project, user=analyst)

    # then
    assert [(f.item_id, f.your_labels, f.final_labels, f.agreed, f.note, f.reviewer) for f in feedback] == [
        (overturned.pk, ["spam"], ["ham"], False, "n", "rev"),
        (upheld.pk, ["ham"], ["ham"], True, "", "rev"),
    ]
    assert review_feedback_list(project=project, user=analyst, limit=1)[0].item_id == overturned.pk
    assert review_feedback_list(project=ProjectFactory(), user=analyst) == []


def test_gold_labels_are_listed_latest_first_with_their_items_annotation_counts() -> None:
    # given
    project = ProjectFactory()
    older_item, newer_item = ItemFactory(project=project), ItemFactory(project=project)
    AnnotationFactory.create_batch(2, item=older_item)
    older = GoldLabelFactory(item=older_item)
    newer = GoldLabelFactory(item=newer_item)
    type(older).objects.filter(pk=older.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    GoldLabelFactory()  # another project's

    # when
    listed = list(gold_label_list(project=project))

    # then
    assert listed == [newer, older]
    assert [gold.n_annotations for gold in listed] == [0, 2]
