"""The agreement endpoint: the selector's report for those who oversee a project, 403/404 for the others."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

from oversight.selectors.agreement import agreement_cache_key
from projects.choices import Role
from projects.models import Membership, Project
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, UserFactory

pytestmark = pytest.mark.django_db


def _rate(project: Project) -> None:
    """ana and bob: ham/ham, spam/spam, ham/spam."""
    ana, bob = UserFactory(username="ana"), UserFactory(username="bob")
    for first, second in [("ham", "ham"), ("spam", "spam"), ("ham", "spam")]:
        item = ItemFactory(project=project)
        AnnotationFactory(item=item, annotator=ana, labels=[first])
        AnnotationFactory(item=item, annotator=bob, labels=[second])


@pytest.mark.parametrize("role", [Role.OWNER, Role.REVIEWER, Role.DATA_SCIENTIST])
def test_those_who_oversee_get_the_report(
    project: Project,
    member_factory: Callable[..., Membership],
    api_client_for: Callable[..., APIClient],
    role: str,
) -> None:
    # given
    _rate(project)
    api = api_client_for(member_factory(project, role).user)

    # when
    response = api.get(reverse("oversight-api:agreement", args=[project.slug]))

    # then: percent 2/3; Cohen p_o 2/3, p_e 4/9 -> 0.4; Fleiss P_bar 2/3, P_e 0.5 -> 1/3;
    # Krippendorff D_o 2/6, D_e 18/30 -> 4/9
    assert response.status_code == 200
    body = response.json()
    assert (body["n_items"], body["n_annotators"]) == (3, 2)
    assert (body["percent_agreement"], body["cohen_kappa_mean"]) == (0.6667, 0.4)
    assert (body["fleiss_kappa"], body["krippendorff_alpha"]) == (0.3333, 0.4444)
    assert list(body["per_label"]) == ["ham", "spam"]
    assert [(pair["a"], pair["b"], pair["n_items"]) for pair in body["pairs"]] == [("ana", "bob", 3)]


@pytest.mark.parametrize(("member_role", "status"), [(Role.ANALYST, 403), (None, 404)])
def test_analysts_get_403_and_outsiders_404(
    project: Project,
    member_factory: Callable[..., Membership],
    api_client_for: Callable[..., APIClient],
    member_role: str | None,
    status: int,
) -> None:
    # given
    _rate(project)
    user = member_factory(project, member_role).user if member_role else UserFactory()
    api = api_client_for(user)

    # when
    response = api.get(reverse("oversight-api:agreement", args=[project.slug]))

    # then: refused, and nothing was worked out or cached
    assert response.status_code == status
    assert "n_items" not in response.json()
    assert cache.get(agreement_cache_key(project=project)) is None
