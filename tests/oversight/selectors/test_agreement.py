"""Agreement of a project, against a small data set worked out by hand (see each test's comments)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import krippendorff
import numpy as np
import pytest
from django.contrib.auth import get_user_model
from sklearn.metrics import cohen_kappa_score

from labeling.choices import AnnotationSource
from labeling.models import Annotation
from oversight.selectors.agreement import (
    AgreementReport,
    LabelAgreement,
    PairAgreement,
    PeriodAgreement,
    agreement_compute,
    agreement_get,
)
from projects.models import Item, Project
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

# Item by item, who gave what; "carol" is an annotator named in an imported file (no user).
HAND_WORKED = {
    "i1": {"ana": "ham", "bob": "ham", "carol": "ham"},
    "i2": {"ana": "spam", "bob": "spam", "carol": "ham"},
    "i3": {"ana": "spam", "bob": "eggs"},
    "i4": {"ana": "ham", "carol": "ham"},
    "i5": {"ana": "spam"},  # rated once: left out
}
# When each annotation was made (default: 2024-01-03, a Wednesday of the week of Monday 2024-01-01).
WHEN = {("i3", "ana"): "2024-01-08", ("i3", "bob"): "2024-01-10", ("i4", "ana"): "2024-01-05"}
WHEN |= {("i4", "carol"): "2024-01-09"}


def _annotate(project: Project, item: Item, who: str, labels: list[str], when: str) -> Annotation:
    if who in {"ana", "bob"}:
        annotation = AnnotationFactory(item=item, annotator=UserFactory(username=who), labels=labels)
    else:
        annotation = AnnotationFactory(
            item=item, annotator=None, external_annotator=who, labels=labels, source=AnnotationSource.IMPORT
        )
    # created_at is auto_now_add: the factory cannot set it.
    moment = datetime.fromisoformat(when).replace(hour=12, tzinfo=UTC)
    Annotation.objects.filter(pk=annotation.pk).update(created_at=moment)
    return annotation


def _build(project: Project, data: dict[str, dict[str, Any]]) -> dict[str, Item]:
    items = {}
    for external_id, ratings in data.items():
        items[external_id] = item = ItemFactory(project=project, external_id=external_id)
        for who, labels in ratings.items():
            when = WHEN.get((external_id, who), "2024-01-03")
            _annotate(project, item, who, labels if isinstance(labels, list) else [labels], when)
    return items


def _ids() -> dict[str, str]:
    users = {user.username: user.pk for user in get_user_model().objects.all()}
    return {"ana": f"user:{users['ana']}", "bob": f"user:{users['bob']}", "carol": "ext:carol"}


def test_a_single_label_project_by_hand() -> None:
    # given
    project = ProjectFactory(labels=["ham", "spam", "eggs"])
    _build(project, HAND_WORKED)

    # when
    report = agreement_compute(project=project)

    # then: 4 items rated at least twice, by 3 annotators.
    # Percent: i1 1, i2 1/3, i3 0, i4 1 -> 7/12.
    # Cohen: ana-bob [ham, spam, spam] vs [ham, spam, eggs]: p_o 2/3, p_e 1/9 + 2/9 = 1/3 -> 0.5;
    # ana-carol and bob-carol: carol always says ham, p_o = p_e -> 0; mean 0.5 / 3.
    # Fleiss: P_i 1, 1/3, 0, 1 (P_bar 7/12); p = (0.6, 0.3, 0.1), P_e 0.46 -> (7/12 - 0.46) / 0.54.
    # Krippendorff: o_ham,ham 5, o_spam,spam 1, off-diagonal 4; n = (6, 3, 1), 10 values;
    # D_o = 0.4, D_e = 2 (18 + 6 + 3) / 90 = 0.6 -> 1/3.
    assert (report.n_items, report.n_annotators, report.multi_label) == (4, 3, False)
    assert report.percent_agreement == round(7 / 12, 4) == 0.5833
    assert report.cohen_kappa_mean == 0.1667
    assert report.fleiss_kappa == round((7 / 12 - 0.46) / 0.54, 4) == 0.2284
    assert report.krippendorff_alpha == 0.3333


def test_per_label_figures_binarise_each_label() -> None:
    # given
    project = ProjectFactory(labels=["ham", "spam", "eggs"])
    _build(project, HAND_WORKED)

    # when
    per_label = agreement_compute(project=project).per_label

    # then, ham or not: i1 TTT, i2 FFT, i3 FF, i4 TT. Percent (1 + 1/3 + 1 + 1) / 4; Cohen: ana-bob agree
    # throughout (1.0), the pairs with carol 0; Fleiss: P_bar 5/6, P_e 0.6^2 + 0.4^2 = 0.52;
    # Krippendorff: D_o = 2/10, D_e = 2 * 6 * 4 / 90 -> 1 - 0.375.
    # eggs or not: only bob's i3 is eggs. Cohen: ana-bob 0, the others undefined (no one says eggs);
    # Fleiss: P_bar 0.75, P_e 0.82; Krippendorff: D_o = D_e = 0.2 -> 0.
    assert list(per_label) == ["ham", "spam", "eggs"]
    assert per_label["ham"] == LabelAgreement(
        n_items=4, percent_agreement=0.8333, cohen_kappa_mean=0.3333,
        fleiss_kappa=round((5 / 6 - 0.52) / 0.48, 4), krippendorff_alpha=0.625,
    )  # fmt: skip
    assert per_label["spam"] == LabelAgreement(
        n_items=4, percent_agreement=0.5833, cohen_kappa_mean=0.1333,
        fleiss_kappa=round((7 / 12 - 0.58) / 0.42, 4), krippendorff_alpha=round(1 / 7, 4),
    )  # fmt: skip
    assert per_label["eggs"] == LabelAgreement(
        n_items=4, percent_agreement=0.75, cohen_kappa_mean=0.0,
        fleiss_kappa=round((0.75 - 0.82) / 0.18, 4), krippendorff_alpha=0.0,
    )  # fmt: skip


def test_the_figures_match_the_packages_on_the_raw_ratings() -> None:
    # given
    project = ProjectFactory(labels=["ham", "spam", "eggs"])
    _build(project, HAND_WORKED)
    rated = {item: ratings for item, ratings in HAND_WORKED.items() if len(ratings) >= 2}
    codes = {"ham": 0, "spam": 1, "eggs": 2}
    reliability_data = [
        [codes[ratings[who]] if who in ratings else np.nan for ratings in rated.values()]
        for who in ("ana", "bob", "carol")
    ]
    shared = [ratings for ratings in rated.values() if {"ana", "bob"} <= ratings.keys()]

    # when
    report = agreement_compute(project=project)

    # then
    alpha = krippendorff.alpha(reliability_data=reliability_data, level_of_measurement="nominal")
    assert report.krippendorff_alpha == round(alpha, 4)
    kappa = cohen_kappa_score([ratings["ana"] for ratings in shared], [ratings["bob"] for ratings in shared])
    assert report.pairs[0].cohen_kappa == round(kappa, 4)


def test_pairs_are_named_and_sorted_with_imported_annotators() -> None:
    # given
    project = ProjectFactory(labels=["ham", "spam", "eggs"])
    _build(project, HAND_WORKED)
    ids = _ids()

    # when
    pairs = agreement_compute(project=project).pairs

    # then
    assert pairs == (
        PairAgreement(a="ana", b="bob", a_key=ids["ana"], b_key=ids["bob"], n_items=3,
                      percent_agreement=0.6667, cohen_kappa=0.5),
        PairAgreement(a="ana", b="carol", a_key=ids["ana"], b_key="ext:carol", n_items=3,
                      percent_agreement=0.6667, cohen_kappa=0.0),
        PairAgreement(a="bob", b="carol", a_key=ids["bob"], b_key="ext:carol", n_items=2,
                      percent_agreement=0.5, cohen_kappa=0.0),
    )  # fmt: skip


def test_over_time_puts_an_item_in_the_week_of_its_latest_annotation() -> None:
    # given: i1 and i2 in the week of 2024-01-01; i3 and i4 (latest annotation on the 9th) in the next
    project = ProjectFactory(labels=["ham", "spam", "eggs"])
    _build(project, HAND_WORKED)

    # when
    over_time = agreement_compute(project=project).over_time

    # then, week 1: percent (1 + 1/3) / 2; alpha: o_ham,ham 3, o_spam,spam 1, off-diagonal 2, n = (4, 2):
    # D_o = 2/6, D_e = 16/30 -> 0.375. Week 2: percent (0 + 1) / 2; alpha: off-diagonal 2 of 4 values,
    # n = (2, 1, 1): D_o = 0.5, D_e = 10/12 -> 0.4.
    assert over_time == (
        PeriodAgreement(period="2024-01-01", n_items=2, percent_agreement=0.6667, krippendorff_alpha=0.375),
        PeriodAgreement(period="2024-01-08", n_items=2, percent_agreement=0.5, krippendorff_alpha=0.4),
    )


def test_imported_annotations_without_a_name_count_as_one_annotator() -> None:
    # given
    project = ProjectFactory()
    item = ItemFactory(project=project)
    _annotate(project, item, "ana", ["spam"], "2024-01-03")
    _annotate(project, item, "", ["spam"], "2024-01-03")

    # when
    report = agreement_compute(project=project)

    # then
    [pair] = report.pairs
    assert (pair.a, pair.b, pair.b_key, pair.percent_agreement) == ("ana", "import", "ext:import", 1.0)


def test_a_multi_label_project_gives_per_label_figures_and_exact_set_agreement() -> None:
    # given
    project = ProjectFactory(kind="multi", multi_label=True, labels=["a", "b"])
    _build(project, {
        "m1": {"ana": ["a"], "bob": ["a"]},
        "m2": {"ana": ["a", "b"], "bob": ["a"]},
        "m3": {"ana": [], "bob": ["b"]},
        "m4": {"ana": ["b"], "bob": ["b"]},
    })  # fmt: skip

    # when
    report = agreement_compute(project=project)

    # then, label a: the two agree on every item (1.0 throughout). Label b: ana F T F T, bob F F T T:
    # p_o = p_e = 0.5 -> Cohen and Fleiss 0; Krippendorff D_o = 4/8, D_e = 32/56 -> 0.125.
    # Overall: exact-set agreement on m1 and m4 (0.5), the rest means over the labels.
    assert report.per_label == {
        "a": LabelAgreement(
            n_items=4, percent_agreement=1.0, cohen_kappa_mean=1.0, fleiss_kappa=1.0, krippendorff_alpha=1.0
        ),
        "b": LabelAgreement(
            n_items=4, percent_agreement=0.5, cohen_kappa_mean=0.0, fleiss_kappa=0.0, krippendorff_alpha=0.125
        ),
    }
    assert (report.n_items, report.n_annotators, report.multi_label) == (4, 2, True)
    assert report.percent_agreement == 0.5
    assert (report.cohen_kappa_mean, report.fleiss_kappa, report.krippendorff_alpha) == (0.5, 0.5, 0.5625)
    [pair] = report.pairs
    assert (pair.a, pair.b, pair.n_items, pair.percent_agreement, pair.cohen_kappa) == (
        "ana",
        "bob",
        4,
        0.5,
        0.5,
    )
    assert report.over_time == (
        PeriodAgreement(period="2024-01-01", n_items=4, percent_agreement=0.5, krippendorff_alpha=0.5625),
    )


def test_an_empty_project_gives_none_everywhere() -> None:
    # given
    project = ProjectFactory()
    AnnotationFactory(item=ItemFactory(project=project))  # rated once only

    # when
    report = agreement_compute(project=project)

    # then
    empty = LabelAgreement(
        n_items=0, percent_agreement=None, cohen_kappa_mean=None, fleiss_kappa=None, krippendorff_alpha=None
    )
    assert report == AgreementReport(
        n_items=0, n_annotators=0, percent_agreement=None, cohen_kappa_mean=None, fleiss_kappa=None,
        krippendorff_alpha=None, per_label={"ham": empty, "spam": empty}, pairs=(), over_time=(),
        multi_label=False,
    )  # fmt: skip


def test_to_json_is_plain_json() -> None:
    # given
    project = ProjectFactory(labels=["ham", "spam", "eggs"])
    _build(project, HAND_WORKED)

    # when
    data = agreement_compute(project=project).to_json()

    # then
    assert list(data) == [
        "n_items", "n_annotators", "percent_agreement", "cohen_kappa_mean", "fleiss_kappa",
        "krippendorff_alpha", "per_label", "pairs", "over_time", "multi_label",
    ]  # fmt: skip
    assert data["per_label"]["ham"]["krippendorff_alpha"] == 0.625
    assert data["pairs"][0] == {
        "a": "ana", "b": "bob", "a_key": _ids()["ana"], "b_key": _ids()["bob"], "n_items": 3,
        "percent_agreement": 0.6667, "cohen_kappa": 0.5,
    }  # fmt: skip
    assert data["over_time"][1] == {
        "period": "2024-01-08",
        "n_items": 2,
        "percent_agreement": 0.5,
        "krippendorff_alpha": 0.4,
    }


def test_agreement_get_caches_until_the_annotations_change(django_assert_num_queries: Any) -> None:
    # given
    project = ProjectFactory(labels=["ham", "spam", "eggs"])
    items = _build(project, HAND_WORKED)
    first = agreement_get(project=project)

    # when: asked again, only the cache key is read
    with django_assert_num_queries(1):
        second = agreement_get(project=project)
    # and after bob labels i5 like ana
    _annotate(project, items["i5"], "bob", ["spam"], "2024-01-03")
    third = agreement_get(project=project)

    # then
    assert second == first
    assert (first.n_items, third.n_items) == (4, 5)
    assert third == agreement_compute(project=project)


def test_agreement_get_sees_an_edited_annotation() -> None:
    # given
    project = ProjectFactory(labels=["ham", "spam", "eggs"])
    _build(project, HAND_WORKED)
    before = agreement_get(project=project)
    annotation = Annotation.objects.get(item__external_id="i3", annotator__username="bob")

    # when: bob changes eggs to spam, as the annotation services do (updated_at moves)
    annotation.labels = ["spam"]
    annotation.save(update_fields=["labels", "updated_at"])
    after = agreement_get(project=project)

    # then: i3 now agrees; percent (1 + 1/3 + 1 + 1) / 4
    assert before.percent_agreement == 0.5833
    assert after.percent_agreement == 0.8333
