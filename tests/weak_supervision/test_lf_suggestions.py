from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from labeling.services.annotations import RationaleSpec, annotation_submit
from projects.choices import Role
from projects.models import Membership, Project
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory
from tests.weak_supervision.factories import keyword_lf
from weak_supervision.lf_suggestions import labeling_function_suggestions
from weak_supervision.models import LabelingFunction
from weak_supervision.services.functions import labeling_function_accept_suggestion

pytestmark = pytest.mark.django_db


def _project_with_evidence() -> Project:
    """Spam items where analysts marked "free prize" as evidence, and ham items about lunch."""
    project = ProjectFactory()
    analyst = UserFactory()
    for index in range(6):
        text = f"Claim your FREE prize number {index} today"
        item = ItemFactory(project=project, text=text)
        start = text.index("FREE")
        annotation_submit(project=project, user=analyst, item_id=item.pk, labels=["spam"], client_uuid=uuid.uuid4(),
                          rationales=[RationaleSpec(start=start, end=start + len("FREE prize"))])  # fmt: skip
    for index in range(5):
        AnnotationFactory(
            item=ItemFactory(project=project, text=f"lunch meeting moved to noon {index}"), labels=["ham"]
        )
    return project


def test_evidence_spans_and_frequent_words_become_scored_keyword_proposals() -> None:
    # given
    project = _project_with_evidence()

    # when
    suggestions = {(s.phrase, s.label): s for s in labeling_function_suggestions(project=project)}

    # then: the analysts' span comes first, with its estimated coverage and accuracy on gold items
    evidence = suggestions[("free prize", "spam")]
    assert (evidence.source, evidence.support, evidence.coverage, evidence.accuracy) == (
        "rationale",
        6,
        round(6 / 11, 4),
        1.0,
    )
    assert next(iter(suggestions)) == ("free prize", "spam")
    lunch = suggestions[("lunch", "ham")]
    assert (lunch.source, lunch.support, lunch.accuracy, lunch.gold_judged) == ("n-gram", 5, 1.0, 5)


def test_keywords_already_in_an_lf_are_not_proposed_again() -> None:
    project = _project_with_evidence()
    keyword_lf(project, "mine", "spam", "free prize")

    phrases = {(s.phrase, s.label) for s in labeling_function_suggestions(project=project)}

    assert ("free prize", "spam") not in phrases


def test_accepting_a_proposal_creates_a_keyword_lf_named_after_it() -> None:
    project = _project_with_evidence()

    first = labeling_function_accept_suggestion(project=project, user=None, phrase="free prize", label="spam")
    second = labeling_function_accept_suggestion(project=project, user=None, phrase="free prize", label="ham")

    assert (first.name, second.name) == ("kw-free-prize", "kw-free-prize-2")
    assert first.current_version.spec["keywords"] == ["free prize"]  # type: ignore[union-attr]
    assert first.current_version.label == "spam"  # type: ignore[union-attr]


def test_suggestions_over_the_api_and_accept_with_one_call(
    member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> None:
    project = _project_with_evidence()
    api = api_client_for(member_factory(project, Role.DATA_SCIENTIST).user)
    base = f"/api/projects/{project.slug}/labeling-functions/suggestions/"

    listed = api.get(base).json()
    accepted = api.post(
        f"{base}accept/", {"phrase": listed[0]["phrase"], "label": listed[0]["label"]}, format="json"
    )
    analyst = api_client_for(member_factory(project, Role.ANALYST).user).get(base)

    assert listed[0] == {"phrase": "free prize", "label": "spam", "source": "rationale", "support": 6,
                         "coverage": round(6 / 11, 4), "accuracy": 1.0, "gold_judged": 6}  # fmt: skip
    assert accepted.status_code == 201
    assert LabelingFunction.objects.filter(project=project, name="kw-free-prize").exists()
    assert analyst.status_code == 403


def test_the_lf_page_lists_suggestions_and_accepts_one(
    member_factory: Callable[..., Membership], client_for: Callable[..., Any]
) -> None:
    project = _project_with_evidence()
    client = client_for(member_factory(project, Role.OWNER).user)

    table = client.get(
        f"/projects/{project.slug}/labeling-functions/suggestions/", headers={"HX-Request": "true"}
    )
    accepted = client.post(f"/projects/{project.slug}/labeling-functions/suggestions/accept/",
                           {"phrase": "lunch", "label": "ham"}, headers={"HX-Request": "true"})  # fmt: skip

    assert "<code>free prize</code>" in table.content.decode()
    assert accepted["HX-Redirect"] == f"/projects/{project.slug}/labeling-functions/"
    assert LabelingFunction.objects.get(project=project).name == "kw-lunch"
