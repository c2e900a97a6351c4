"""Fixtures of the oversight tests: a project whose items the item browser filters in every way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User

from labeling.choices import GoldSource
from labeling.models import Flag
from oversight.models import ReviewRequest
from projects.choices import Role, Split
from projects.models import Item, Membership, Project
from tests.labeling.factories import AnnotationFactory, GoldLabelFactory
from tests.projects.factories import ItemFactory, ProjectFactory
from weak_supervision.choices import RunStatus
from weak_supervision.models import (
    ItemEndModelLabel,
    ItemLfVote,
    ItemWeakLabel,
    LabelingFunction,
    LabelModelRun,
)


@dataclass(frozen=True)
class BrowserWorld:
    """Five items, a to e (in id order), with answers, gold, flags, reviews and a run's outputs:

    | item | text            | split | answers (alice, bob) | gold              | weak (conf) | lf_a, lf_b | end  |
    | a    | cheap pills now | train | spam, spam           |                   | spam (0.9)  | spam, -    | spam |
    | b    | hello there     | train | ham, spam            |                   | ham (0.55)  | ham, ham   | ham  |
    | c    | lunch at noon   | test  |                      | spam, adjudicated | - (0)       | -, -       | ham  |
    | d    | more PILLS      |       | -, ham               | ham, known, check | spam (0.7)  | -, spam    | -    |
    | e    | added later     | test  |                      |                   | (no row)    |            |      |

    b has an open flag and an open review request; d a resolved flag and a resolved review request."""

    project: Project
    owner: User
    reviewer: User
    analyst: User  # alice
    other: User  # bob
    lf_a: LabelingFunction
    lf_b: LabelingFunction
    items: dict[str, Item]

    def ids(self, *names: str) -> list[int]:
        return [self.items[name].pk for name in names]


@pytest.fixture
def browser_world(db: None, member_factory: Callable[..., Membership]) -> BrowserWorld:
    project = ProjectFactory(slug="browse")
    owner = member_factory(project, Role.OWNER, username="olga").user
    reviewer = member_factory(project, Role.REVIEWER, username="rita").user
    alice = member_factory(project, Role.ANALYST, username="alice").user
    bob = member_factory(project, Role.ANALYST, username="bob").user
    texts = {
        "a": "cheap pills now",
        "b": "hello there",
        "c": "lunch at noon",
        "d": "more PILLS",
        "e": "added later",
    }
    splits = {"a": Split.TRAIN, "b": Split.TRAIN, "c": Split.TEST, "d": Split.NONE, "e": Split.TEST}
    items = {
        name: ItemFactory(project=project, external_id=name, text=text, split=splits[name])
        for name, text in texts.items()
    }
    for name, answers in {"a": ("spam", "spam"), "b": ("ham", "spam"), "d": (None, "ham")}.items():
        for user, label in zip((alice, bob), answers, strict=True):
            if label is not None:
                AnnotationFactory(item=items[name], annotator=user, labels=[label])
    GoldLabelFactory(item=items["c"], labels=["spam"], source=GoldSource.ADJUDICATED, is_check=False)
    GoldLabelFactory(item=items["d"], labels=["ham"], source=GoldSource.KNOWN, is_check=True)
    Flag.objects.create(project=project, item=items["b"], user=alice, comment="odd")
    Flag.objects.create(project=project, item=items["d"], user=alice, resolved_at="2026-01-01T00:00:00Z")
    ReviewRequest.objects.create(project=project, item=items["b"], reasons=["disagreement"])
    ReviewRequest.objects.create(project=project, item=items["d"], reasons=["flag"], status="resolved")
    lf_a = LabelingFunction.objects.create(project=project, name="lf_a", kind="keyword")
    lf_b = LabelingFunction.objects.create(project=project, name="lf_b", kind="keyword")
    run = LabelModelRun.objects.create(
        project=project, number=1, status=RunStatus.SUCCEEDED, labels=["ham", "spam"]
    )
    weak: dict[str, tuple[str, float]] = {
        "a": ("spam", 0.9),
        "b": ("ham", 0.55),
        "c": ("", 0.0),
        "d": ("spam", 0.7),
    }
    ItemWeakLabel.objects.bulk_create(
        ItemWeakLabel(item=items[name], project=project, run=run, label=label, confidence=confidence)
        for name, (label, confidence) in weak.items()
    )
    votes: list[tuple[str, LabelingFunction, str]] = [
        ("a", lf_a, "spam"), ("b", lf_a, "ham"), ("b", lf_b, "ham"), ("d", lf_b, "spam"),
    ]  # fmt: skip
    ItemLfVote.objects.bulk_create(ItemLfVote(item=items[name], labeling_function=lf, label=label)
                                   for name, lf, label in votes)  # fmt: skip
    ItemEndModelLabel.objects.bulk_create(
        ItemEndModelLabel(item=items[name], project=project, run=run, label=label)
        for name, label in {"a": "spam", "b": "ham", "c": "ham"}.items()
    )
    return BrowserWorld(project, owner, reviewer, alice, bob, lf_a, lf_b, items)


# (query, the items it lists, in order): every filter and sort of the browser over BrowserWorld.
BROWSER_CASES: list[tuple[str, Callable[[BrowserWorld], dict[str, Any]], str]] = [
    ("all", lambda w: {}, "abcde"),
    ("q", lambda w: {"q": "pills"}, "ad"),
    ("external_id", lambda w: {"external_id": "c"}, "c"),
    ("split", lambda w: {"split": "test"}, "ce"),
    ("labeled", lambda w: {"labeled": "true"}, "abd"),
    ("unlabeled", lambda w: {"labeled": "false"}, "ce"),
    ("label-in-answers-or-gold", lambda w: {"label": "spam"}, "abc"),
    ("label-ham", lambda w: {"label": "ham"}, "bd"),
    ("annotator", lambda w: {"annotator": w.analyst.pk}, "ab"),
    ("disagreement", lambda w: {"disagreement": "true"}, "b"),
    ("no-disagreement", lambda w: {"disagreement": "false"}, "acde"),
    ("gold-none", lambda w: {"gold": "none"}, "abe"),
    ("gold-any", lambda w: {"gold": "any"}, "cd"),
    ("gold-adjudicated", lambda w: {"gold": "adjudicated"}, "c"),
    ("gold-known", lambda w: {"gold": "known"}, "d"),
    ("gold-check", lambda w: {"gold": "check"}, "d"),
    ("flagged", lambda w: {"flagged": "true"}, "b"),
    ("not-flagged", lambda w: {"flagged": "false"}, "acde"),
    ("in-review", lambda w: {"in_review": "true"}, "b"),
    ("not-in-review", lambda w: {"in_review": "false"}, "acde"),
    ("lf-voted", lambda w: {"lf": w.lf_a.pk}, "ab"),
    ("lf-vote-label", lambda w: {"lf": w.lf_a.pk, "lf_vote": "ham"}, "b"),
    ("lf-vote-other-lf", lambda w: {"lf": w.lf_b.pk, "lf_vote": "spam"}, "d"),
    ("lf-abstain", lambda w: {"lf": w.lf_a.pk, "lf_vote": "abstain"}, "cd"),
    ("weak-label", lambda w: {"weak_label": "spam"}, "ad"),
    ("confidence-min", lambda w: {"confidence_min": "0.6"}, "ad"),
    ("confidence-max", lambda w: {"confidence_max": "0.6"}, "bc"),
    ("confidence-range", lambda w: {"confidence_min": "0.5", "confidence_max": "0.8"}, "bd"),
    ("end-model-label", lambda w: {"end_model_label": "ham"}, "bc"),
    ("combined", lambda w: {"split": "train", "label": "spam", "confidence_max": "0.6"}, "b"),
    ("sort-confidence", lambda w: {"ordering": "confidence"}, "cbda"),
    ("sort-confidence-desc", lambda w: {"ordering": "-confidence"}, "adbc"),
    ("sort-disagreement", lambda w: {"ordering": "-disagreement"}, "b"),
    ("sort-and-filter", lambda w: {"ordering": "confidence", "split": "train"}, "ba"),
]
