from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from labeling.choices import AnnotationSource, EventType
from labeling.models import Annotation, GoldLabel, InteractionEvent
from oversight.choices import SourceKind
from oversight.selectors.quality import (
    ANNOTATOR_QUALITY_COLUMNS,
    AnnotatorQuality,
    annotator_quality_csv_lines,
    annotator_quality_list,
    annotators_below_threshold,
    gold_check_interval,
)
from projects.access import ProjectAccess
from projects.choices import Role
from projects.models import Item, Membership, Project
from projects.selectors import project_get_for_user
from tests.labeling.factories import AnnotationFactory
from tests.oversight.factories import InferenceRunFactory, source_entry
from tests.projects.factories import ItemFactory, ProjectFactory

pytestmark = pytest.mark.django_db

MemberFactory = Callable[..., Membership]
START = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.get_current_timezone())

# The hand-built project: one letter per answer (h = ham, s = spam), "-" for no answer, "*" for a gold check.
#   item  gold   ana  bob  cy   import
#   g1    s*     s    s    s
#   g2    s*     s    h    h
#   g3    s*     s    h    -
#   g4    s*     s    s    -
#   a1    h      h    s    -
#   t1    -      s    h    s
#   s1    -      s    -    -    h
TABLE = {
    "g1": ("s*", "s", "s", "s", ""),
    "g2": ("s*", "s", "h", "h", ""),
    "g3": ("s*", "s", "h", "", ""),
    "g4": ("s*", "s", "s", "", ""),
    "a1": ("h", "h", "s", "", ""),
    "t1": ("", "s", "h", "s", ""),
    "s1": ("", "s", "", "", "h"),
}
KEYS = {"s": ["spam"], "h": ["ham"]}


def _owner_view(project: Project, member_factory: MemberFactory) -> tuple[ProjectAccess, AbstractBaseUser]:
    owner = member_factory(project, Role.OWNER, username="olga").user
    return project_get_for_user(user=owner, slug=project.slug), owner


def _build_table(project: Project, member_factory: MemberFactory) -> dict[str, AbstractBaseUser]:
    users = {name: member_factory(project, Role.ANALYST, username=name).user for name in ("ana", "bob", "cy")}
    for external_id, (gold, *answers, imported) in TABLE.items():
        item = ItemFactory(project=project, external_id=external_id)
        if gold:
            GoldLabel.objects.create(
                project=project, item=item, labels=KEYS[gold[0]], is_check=gold.endswith("*")
            )
        for name, answer in zip(("ana", "bob", "cy"), answers, strict=True):
            if answer:
                AnnotationFactory(item=item, annotator=users[name], labels=KEYS[answer])
        if imported:
            AnnotationFactory(
                item=item, annotator=None, external_annotator="vendor", labels=KEYS[imported],
                source=AnnotationSource.IMPORT,
            )  # fmt: skip
    return users


def _by_name(rows: list[AnnotatorQuality]) -> dict[str, AnnotatorQuality]:
    return {row.username: row for row in rows}


@pytest.mark.parametrize(
    ("correct", "n", "expected"),
    [
        # p = 0.8, z² = 3.8416: centre (0.8 + 0.19208) / 1.38416 = 0.71674, half 1.96·√0.025604 / 1.38416 = 0.22658
        (8, 10, (0.4902, 0.9433)),
        (0, 10, (0.0, 0.2775)),
        (10, 10, (0.7225, 1.0)),
        # p = 0.5, n = 4: centre 0.5, half 1.96·√(0.0625 + 0.060025) / 1.9604 = 0.34996
        (2, 4, (0.15, 0.85)),
    ],
)
def test_the_gold_check_interval_is_the_wilson_score_interval(
    correct: int, n: int, expected: tuple[float, float]
) -> None:
    interval = gold_check_interval(correct, n)
    assert interval is not None
    assert (round(interval[0], 4), round(interval[1], 4)) == expected


def test_no_gold_checks_have_no_interval() -> None:
    assert gold_check_interval(0, 0) is None


def test_agreement_with_consensus_gold_and_checks_is_exact(member_factory: MemberFactory) -> None:
    # given
    project = ProjectFactory(gold_min_checks=3, gold_accuracy_threshold=0.8)
    users = _build_table(project, member_factory)
    Membership.objects.filter(project=project, user=users["bob"]).update(review_all_labels=True)
    as_owner, _owner = _owner_view(project, member_factory)

    # when
    rows = _by_name(annotator_quality_list(project=as_owner.project, viewer=as_owner))

    # then: olga has neither annotations nor events, so no row
    assert list(rows) == ["ana", "bob", "cy"]
    ana, bob, cy = rows["ana"], rows["bob"], rows["cy"]
    # ana agrees with the others on g1, g4 and t1 (a tie between bob's ham and cy's spam), of 7 items shared
    # with someone (s1 with the imported ham); she matches all 5 gold labels and all 4 checks
    assert (ana.consensus_n, ana.consensus_agreement) == (7, 0.4286)
    assert (ana.gold_n, ana.gold_agreement) == (5, 1.0)
    assert (ana.checks_n, ana.checks_correct, ana.check_accuracy) == (4, 4, 1.0)
    assert (ana.check_ci_low, ana.check_ci_high) == (0.5101, 1.0)
    assert ana.below_threshold is False
    # bob: g1, g2 (tie) and g4 of 6 shared items; 2 of 4 checks, 2 of 5 gold labels: flagged
    assert (bob.consensus_n, bob.consensus_agreement) == (6, 0.5)
    assert (bob.gold_n, bob.gold_agreement) == (5, 0.4)
    assert (bob.checks_n, bob.checks_correct, bob.check_accuracy) == (4, 2, 0.5)
    assert (bob.check_ci_low, bob.check_ci_high) == (0.15, 0.85)
    assert (bob.below_threshold, bob.review_all_labels) == (True, True)
    # cy: 1 of 2 checks is as bad, but 2 checks are fewer than the 3 needed before anyone is flagged
    assert (cy.consensus_n, cy.consensus_agreement) == (3, 1.0)
    assert (cy.checks_n, cy.checks_correct, cy.check_accuracy) == (2, 1, 0.5)
    assert (cy.check_ci_low, cy.check_ci_high) == (0.0945, 0.9055)
    assert (cy.below_threshold, cy.review_all_labels) == (False, False)
    assert [row.username for row in annotators_below_threshold(project=project)] == ["bob"]


def test_an_analyst_sees_only_their_own_row_with_the_same_figures(member_factory: MemberFactory) -> None:
    # given
    project = ProjectFactory(gold_min_checks=3)
    users = _build_table(project, member_factory)
    as_owner, _owner = _owner_view(project, member_factory)
    as_bob = project_get_for_user(user=users["bob"], slug=project.slug)

    # when
    mine = annotator_quality_list(project=as_bob.project, viewer=as_bob)

    # then
    assert mine == [_by_name(annotator_quality_list(project=as_owner.project, viewer=as_owner))["bob"]]
    assert [row.username for row in annotators_below_threshold(project=as_bob.project)] == ["bob"]


def test_a_member_without_annotations_or_events_has_no_row_and_a_non_member_neither(
    member_factory: MemberFactory,
) -> None:
    # given: an annotation by someone who has left the project, and a member with only events
    project = ProjectFactory()
    AnnotationFactory(item=ItemFactory(project=project))
    ana = member_factory(project, Role.ANALYST, username="ana").user
    member_factory(project, Role.ANALYST, username="idle")
    InteractionEvent.objects.create(project=project, user=ana, type=EventType.VIEW)
    as_owner, _owner = _owner_view(project, member_factory)

    # when
    [row] = annotator_quality_list(project=as_owner.project, viewer=as_owner)

    # then
    assert (row.username, row.role, row.submitted, row.consensus_n, row.gold_n) == (
        "ana",
        Role.ANALYST,
        0,
        0,
        0,
    )
    assert (row.consensus_agreement, row.check_accuracy, row.check_ci_low, row.fast_share) == (
        None, None, None, None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("lead_times", "expected"),
    [
        # median of the eight is 5000 ms, so the floor is 0.25 * 5000 = 1250 ms: only ana's 500 ms is fast
        (
            {"ana": [500, 3000, 4000, 6000], "bob": [1500, 8000, 10000, 12000]},
            {"ana": (1, 0.25), "bob": (0, 0.0)},
        ),
        # median 1500 ms: a quarter is 375 ms, under the one-second minimum, which is the floor then
        ({"ana": [900, 2000, 2000], "bob": [999, 1000, 3000]}, {"ana": (1, 0.3333), "bob": (1, 0.3333)}),
    ],
)
def test_fast_answers_are_those_under_a_quarter_of_the_median_or_a_second(
    lead_times: dict[str, list[int]], expected: dict[str, tuple[int, float]], member_factory: MemberFactory
) -> None:
    # given: imported annotations count neither for the median nor as anybody's fast answers
    project = ProjectFactory()
    for name, times in lead_times.items():
        user = member_factory(project, Role.ANALYST, username=name).user
        for lead_time in times:
            AnnotationFactory(item=ItemFactory(project=project), annotator=user, lead_time_ms=lead_time)
    AnnotationFactory.create_batch(
        5, item=ItemFactory(project=project), annotator=None, source=AnnotationSource.IMPORT, lead_time_ms=1
    )
    as_owner, _owner = _owner_view(project, member_factory)

    # when
    rows = _by_name(annotator_quality_list(project=as_owner.project, viewer=as_owner))

    # then
    assert {name: (row.fast_answers, row.fast_share) for name, row in rows.items()} == expected


def _submits(project: Project, user: AbstractBaseUser, sessions: list[tuple[int, list[int]]]) -> None:
    """sessions: (minutes after START, dwell of each submit); the submits of a session are a minute apart."""
    InteractionEvent.objects.bulk_create(
        InteractionEvent(
            project=project, user=user, type=EventType.SUBMIT, payload={"dwell_ms": dwell, "input_method": "click"},
            server_ts=START + timedelta(minutes=start + index),
        )
        for start, dwells in sessions
        for index, dwell in enumerate(dwells)
    )  # fmt: skip


def test_speed_drift_compares_the_last_third_of_long_sessions_with_the_first(
    member_factory: MemberFactory,
) -> None:
    # given: ana's first session halves its dwell (ratio 0.5), her second keeps it (1.0); a session of 9
    # submits and one of 3 are too short to count; bob has only short sessions
    project = ProjectFactory()
    ana = member_factory(project, Role.ANALYST, username="ana").user
    bob = member_factory(project, Role.ANALYST, username="bob").user
    _submits(project, ana, [
        (0, [10_000] * 4 + [8_000] * 4 + [5_000] * 4),  # minutes 0-11
        (11 + 31, [6_000] * 10),  # 31 minutes after the last submit: a new session
        (60 + 31, [1_000] * 9),
        (100 + 31, [100, 100, 100]),
    ])  # fmt: skip
    _submits(project, bob, [(0, [4_000] * 9)])
    as_owner, _owner = _owner_view(project, member_factory)

    # when
    rows = _by_name(annotator_quality_list(project=as_owner.project, viewer=as_owner))

    # then: the median of the two sessions' ratios
    assert rows["ana"].drift_speed == 0.75
    assert rows["ana"].submitted == 34
    assert rows["bob"].drift_speed is None


def test_a_gap_of_thirty_minutes_or_less_does_not_end_a_session(member_factory: MemberFactory) -> None:
    # given: 5 submits, a 30-minute pause, 7 more: one session of 12 (first third 2000 ms, last third 3000 ms)
    project = ProjectFactory()
    ana = member_factory(project, Role.ANALYST, username="ana").user
    _submits(project, ana, [(0, [2_000] * 5), (4 + 30, [2_000] * 3 + [3_000] * 4)])
    as_owner, _owner = _owner_view(project, member_factory)

    # when
    [row] = annotator_quality_list(project=as_owner.project, viewer=as_owner)

    # then
    assert row.drift_speed == 1.5


def _consensus_items(
    project: Project, user: AbstractBaseUser, other: AbstractBaseUser, agreed: list[bool]
) -> None:
    """One item per entry, answered by `user` after the previous entry, and by `other` alike or not.

    The items are created last entry first, so only the order of the answers (their ids) can put them in order.
    """
    items = [ItemFactory(project=project) for _ in agreed][::-1]
    for item, agrees in zip(items, agreed, strict=True):
        AnnotationFactory(item=item, annotator=user, labels=["spam"])
        AnnotationFactory(item=item, annotator=other, labels=["spam"] if agrees else ["ham"])


@pytest.mark.parametrize(
    ("agreed", "expected"),
    [
        # later half agrees on 2 of 5, the earlier on 5 of 5
        ([True] * 5 + [True, False, True, False, False], -0.6),
        # 11 items: the middle one is in neither half (earlier 1 of 5, later 4 of 5)
        ([True, False, False, False, False, True, True, True, False, True, True], 0.6),
        ([True] * 9, None),
    ],
)
def test_consensus_drift_is_the_later_half_minus_the_earlier_half(
    agreed: list[bool], expected: float | None, member_factory: MemberFactory
) -> None:
    # given
    project = ProjectFactory()
    ana = member_factory(project, Role.ANALYST, username="ana").user
    bob = member_factory(project, Role.ANALYST, username="bob").user
    _consensus_items(project, ana, bob, agreed)
    as_owner, _owner = _owner_view(project, member_factory)

    # when
    rows = _by_name(annotator_quality_list(project=as_owner.project, viewer=as_owner))

    # then
    assert rows["ana"].consensus_n == len(agreed)
    assert rows["ana"].drift_consensus == expected


def test_the_number_of_queries_does_not_grow_with_members_or_items(member_factory: MemberFactory) -> None:
    # given
    project = ProjectFactory(gold_min_checks=3)
    users = _build_table(project, member_factory)
    _submits(project, users["ana"], [(0, [1_000] * 12)])
    Annotation.objects.filter(project=project).update(lead_time_ms=2000)
    as_owner, _owner = _owner_view(project, member_factory)
    with CaptureQueriesContext(connection) as small:
        annotator_quality_list(project=as_owner.project, viewer=as_owner)
    for index in range(4):
        user = member_factory(project, Role.ANALYST, username=f"extra{index}").user
        _submits(project, user, [(0, [1_000] * 12)])
        for item in Item.objects.filter(project=project):
            AnnotationFactory(item=item, annotator=user, labels=["ham"], lead_time_ms=3000)

    # when
    with CaptureQueriesContext(connection) as large:
        rows = annotator_quality_list(project=as_owner.project, viewer=as_owner)

    # then
    assert len(rows) == 7
    assert len(large.captured_queries) == len(small.captured_queries)


def test_the_csv_has_a_header_and_a_line_per_row(member_factory: MemberFactory) -> None:
    # given
    project = ProjectFactory(gold_min_checks=3)
    _build_table(project, member_factory)
    as_owner, _owner = _owner_view(project, member_factory)
    rows = annotator_quality_list(project=as_owner.project, viewer=as_owner)

    # when
    lines = list(annotator_quality_csv_lines(rows))

    # then
    assert lines[0] == ",".join(ANNOTATOR_QUALITY_COLUMNS) + "\r\n"
    assert len(lines) == 4
    assert (
        lines[2]
        == f"{rows[1].user_id},bob,analyst,0,,,,,6,0.5,5,0.4,4,2,0.5,0.15,0.85,True,0,,,,False,,,,,[],[],\r\n"
    )


def test_the_table_is_cached_until_something_it_reads_changes(member_factory: MemberFactory) -> None:
    # given
    project = ProjectFactory()
    ana = member_factory(project, Role.ANALYST, username="ana").user
    item = ItemFactory(project=project)
    AnnotationFactory(item=item, annotator=ana, labels=["spam"])
    as_owner, _owner = _owner_view(project, member_factory)
    first = annotator_quality_list(project=as_owner.project, viewer=as_owner)

    # when
    with CaptureQueriesContext(connection) as cached:
        again = annotator_quality_list(project=as_owner.project, viewer=as_owner)
    GoldLabel.objects.create(project=project, item=item, labels=["ham"], is_check=True)
    changed = annotator_quality_list(project=as_owner.project, viewer=as_owner)

    # then
    assert again == first
    assert len(cached) == 5  # the cache key's aggregates and the latest inference run, nothing else
    assert (_by_name(first)["ana"].checks_n, _by_name(changed)["ana"].checks_n) == (0, 1)


def test_the_rows_carry_truth_inferences_estimates_beside_the_gold_checks(
    member_factory: MemberFactory,
) -> None:
    # given: the latest succeeded inference run estimated ana and bob (cy was not in it)
    project = ProjectFactory(gold_min_checks=3)
    users = _build_table(project, member_factory)
    as_owner, _owner = _owner_view(project, member_factory)
    ana, bob = users["ana"].pk, users["bob"].pk
    InferenceRunFactory(
        project=project, number=1, sources=[source_entry(SourceKind.ANNOTATOR, "ana", 0.1, user_id=ana)]
    )
    InferenceRunFactory(
        project=project, number=2,
        sources=[
            source_entry(SourceKind.ANNOTATOR, "ana", 0.93, user_id=ana, interval=[0.8, 0.98]),
            source_entry(SourceKind.ANNOTATOR, "bob", 0.55, user_id=bob, interval=[0.4, 0.7]),
        ],
    )  # fmt: skip

    # when
    rows = _by_name(annotator_quality_list(project=as_owner.project, viewer=as_owner))

    # then
    assert (rows["ana"].check_accuracy, rows["ana"].estimated_accuracy) == (1.0, 0.93)
    assert (rows["ana"].inference_run, rows["ana"].estimated_ci_low, rows["ana"].estimated_ci_high) == (
        2,
        0.8,
        0.98,
    )
    assert rows["bob"].estimated_per_class == [
        {"label": "ham", "accuracy": 0.55, "interval": [0.4, 0.7], "items": 5.0},
        {"label": "spam", "accuracy": 0.55, "interval": [0.4, 0.7], "items": 5.0},
    ]
    assert rows["bob"].estimated_confusions == [
        {"label": None, "classes": ["ham", "spam"], "rows": [[0.55, 0.45], [0.45, 0.55]]}
    ]
    assert (rows["cy"].inference_run, rows["cy"].estimated_accuracy, rows["cy"].estimated_per_class) == (
        None,
        None,
        [],
    )


def test_an_analyst_gets_only_their_own_estimate(member_factory: MemberFactory) -> None:
    # given
    project = ProjectFactory()
    users = _build_table(project, member_factory)
    InferenceRunFactory(
        project=project,
        sources=[
            source_entry(SourceKind.ANNOTATOR, name, accuracy, user_id=users[name].pk)
            for name, accuracy in (("ana", 0.9), ("bob", 0.6), ("cy", 0.7))
        ],
    )
    as_bob = project_get_for_user(user=users["bob"], slug=project.slug)

    # when
    rows = annotator_quality_list(project=as_bob.project, viewer=as_bob)

    # then
    assert [(row.username, row.estimated_accuracy) for row in rows] == [("bob", 0.6)]


def test_a_new_inference_run_shows_at_once_through_the_cached_table(member_factory: MemberFactory) -> None:
    # given: the table is cached before the first inference run
    project = ProjectFactory()
    ana = member_factory(project, Role.ANALYST, username="ana").user
    AnnotationFactory(item=ItemFactory(project=project), annotator=ana, labels=["spam"])
    as_owner, _owner = _owner_view(project, member_factory)
    before = annotator_quality_list(project=as_owner.project, viewer=as_owner)

    # when
    InferenceRunFactory(
        project=project, sources=[source_entry(SourceKind.ANNOTATOR, "ana", 0.8, user_id=ana.pk)]
    )
    after = annotator_quality_list(project=as_owner.project, viewer=as_owner)

    # then
    assert (before[0].estimated_accuracy, after[0].estimated_accuracy) == (None, 0.8)
