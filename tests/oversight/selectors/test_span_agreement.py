"""Agreement of span projects: pairwise span F1 (exact and overlapping), per type, and token alpha."""

from __future__ import annotations

import pytest

from core.span_metrics import token_alpha
from core.spans import tokenize
from oversight.selectors.agreement import agreement_get
from oversight.selectors.span_agreement import SpanAgreementReport, SpanTypeAgreement, span_agreement_compute
from tests.oversight.factories import span_answer, span_project
from tests.projects.factories import ItemFactory, UserFactory

pytestmark = pytest.mark.django_db

TEXT = "Ada Lovelace met Charles Babbage in London"
OTHER = "Paris is far from Berlin"


def test_span_agreement_pools_every_pair_and_scores_each_type() -> None:
    # given: ana, bob and cleo on item 1; ana and bob on item 2; cleo alone on item 3 (not counted)
    project = span_project()
    ana, bob, cleo = (UserFactory(username=name) for name in ("ana", "bob", "cleo"))
    one, two, alone = (ItemFactory(project=project, text=text) for text in (TEXT, OTHER, OTHER))
    span_answer(one, ana, ("Ada Lovelace", "per"), ("Charles Babbage", "per"), ("London", "loc"))
    span_answer(one, bob, ("Ada Lovelace", "per"), ("Babbage", "per"), ("London", "loc"))
    span_answer(one, cleo, ("Ada Lovelace", "per"), ("Charles Babbage", "per"), ("London", "org"))
    span_answer(two, ana, ("Paris", "loc"), ("Berlin", "loc"))
    span_answer(two, bob, ("Paris", "loc"))
    span_answer(alone, cleo, ("Paris", "loc"))

    # when
    report = span_agreement_compute(project=project)

    # then
    assert (report.n_items, report.n_annotators) == (2, 3)
    assert report.n_tokens == len(tokenize(TEXT)) + len(tokenize(OTHER))
    pairs = {(pair.a, pair.b): pair for pair in report.pairs}
    assert {key: pairs[key].n_items for key in pairs} == {
        ("ana", "bob"): 2,
        ("ana", "cleo"): 1,
        ("bob", "cleo"): 1,
    }
    # ana-bob: tp 3 (Ada, London, Paris), ana alone 2 (Charles Babbage, Berlin), bob alone 1 (Babbage)
    assert pairs["ana", "bob"].exact_f1 == round(6 / 9, 4)
    assert pairs["ana", "bob"].overlap_f1 == round(8 / 9, 4)  # Babbage overlaps Charles Babbage
    assert pairs["ana", "bob"].per_type == {"loc": 0.8, "per": 0.5}
    # per, pooled over the pairs: ana-bob tp 1 fp 1 fn 1, ana-cleo tp 2, bob-cleo tp 1 fp 1 fn 1
    assert report.per_type["per"] == SpanTypeAgreement(
        n_spans=12, exact_f1=round(2 * 4 / 12, 4), overlap_f1=1.0
    )
    assert report.per_type["org"] == SpanTypeAgreement(n_spans=2, exact_f1=0.0, overlap_f1=0.0)
    assert list(report.per_type) == ["per", "loc", "org"]
    assert report.exact_f1_mean == round((0.6667 + 0.6667 + 0.3333) / 3, 4)


def test_token_alpha_counts_the_items_answered_twice_over_their_tokens() -> None:
    # given: an item with the import's tokens (two tokens: "Ada Lovelace" is one)
    project = span_project()
    item = ItemFactory(project=project, text=TEXT, token_offsets=[[0, 12], [13, 42]])
    ana, bob = UserFactory(), UserFactory()
    first = span_answer(item, ana, ("Ada Lovelace", "per"))
    second = span_answer(item, bob, ("Ada", "per"), ("London", "loc"))

    # when
    report = span_agreement_compute(project=project)

    # then
    assert report.n_tokens == 2
    expected = token_alpha([{"a": first.spans, "b": second.spans}], [[(0, 12), (13, 42)]])
    assert report.krippendorff_alpha == (None if expected is None else round(expected, 4))


def test_no_item_answered_twice_gives_an_empty_report() -> None:
    # given
    project = span_project()
    span_answer(ItemFactory(project=project, text=TEXT), UserFactory(), ("Ada", "per"))

    # when
    report = span_agreement_compute(project=project)

    # then
    assert (report.n_items, report.exact_f1, report.overlap_f1, report.krippendorff_alpha) == (
        0,
        None,
        None,
        None,
    )
    assert report.pairs == ()
    assert report.per_type["per"] == SpanTypeAgreement(n_spans=0, exact_f1=None, overlap_f1=None)


def test_agreement_get_gives_span_projects_the_span_report_with_the_shared_headline_keys() -> None:
    # given: two annotators who both see no entity
    project = span_project()
    item = ItemFactory(project=project, text=TEXT)
    span_answer(item, UserFactory())
    span_answer(item, UserFactory())

    # when
    report = agreement_get(project=project)
    again = agreement_get(project=project)

    # then: both said "no entities": perfect F1, alpha undefined (one value everywhere)
    assert isinstance(report, SpanAgreementReport)
    assert again == report
    body = report.to_json()
    assert (body["kind"], body["exact_f1"], body["krippendorff_alpha"]) == ("spans", 1.0, None)
    assert (body["percent_agreement"], body["cohen_kappa_mean"], body["fleiss_kappa"]) == (None, None, None)
    assert body["over_time"] == []
