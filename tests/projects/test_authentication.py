"""ProjectApiTokenAuthentication: on a project's URL the token and the caller's membership are one statement,
with the same answers as reading them apart (404 to non-members, owner to superusers, 401 to bad tokens)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.authentication import ERROR_EXPIRED_TOKEN, ERROR_INVALID_TOKEN, ApiTokenAuthentication
from accounts.models import ApiToken
from accounts.services import api_token_create
from projects.authentication import ProjectApiTokenAuthentication
from projects.choices import Role
from projects.models import Membership, Project
from projects.selectors import ProjectRead, api_token_with_project_read, project_get_for_user
from tests.projects.factories import ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

TOKENS = ApiToken._meta.db_table
MEMBERSHIPS = Membership._meta.db_table


def _client_with(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _reading(table: str, queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"] for q in queries.captured_queries if f'"{table}"' in q["sql"] or f" {table} " in q["sql"]
    ]


def test_a_project_request_reads_token_and_membership_in_one_statement(
    project: Project, member_factory: Callable[..., Membership]
) -> None:
    # given an analyst with a token
    analyst = member_factory(project, Role.ANALYST).user
    client = _client_with(api_token_create(user=analyst).key)

    # when
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/projects/{project.slug}/")

    # then one statement reads both, and no other reads the membership
    assert response.status_code == 200
    assert response.data["role"] == "analyst"
    token_reads = [sql for sql in _reading(TOKENS, queries) if sql.lstrip().upper().startswith("SELECT")]
    assert len(token_reads) == 1
    assert _reading(MEMBERSHIPS, queries) == token_reads


def test_a_request_on_a_project_costs_one_query_fewer_than_reading_apart(
    project: Project, member_factory: Callable[..., Membership], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the same analyst's request read together, and read apart (the token, then the membership)
    analyst = member_factory(project, Role.ANALYST).user
    key = api_token_create(user=analyst).key
    url = f"/api/projects/{project.slug}/"
    _client_with(key).get(url)  # warm per-process caches

    # when
    with CaptureQueriesContext(connection) as together:
        assert _client_with(key).get(url).status_code == 200
    monkeypatch.setattr(
        ProjectApiTokenAuthentication,
        "authenticate_credentials",
        ApiTokenAuthentication.authenticate_credentials,
    )
    with CaptureQueriesContext(connection) as apart:
        assert _client_with(key).get(url).status_code == 200

    # then
    assert len(together.captured_queries) == len(apart.captured_queries) - 1


def test_a_non_member_gets_404_and_an_unknown_slug_404(
    project: Project, member_factory: Callable[..., Membership]
) -> None:
    # given an analyst of another project
    other = ProjectFactory()
    client = _client_with(api_token_create(user=member_factory(other, Role.ANALYST).user).key)

    # when
    foreign = client.get(f"/api/projects/{project.slug}/queue/next/")
    unknown = client.get("/api/projects/no-such-project/queue/next/")

    # then
    assert (foreign.status_code, unknown.status_code) == (404, 404)
    assert foreign.json() == unknown.json() == {"detail": "Project not found.", "code": "not_found"}


def test_a_superuser_who_is_not_a_member_is_owner(project: Project) -> None:
    # given
    admin = UserFactory(is_superuser=True, is_staff=True)

    # when
    response = _client_with(api_token_create(user=admin).key).get(f"/api/projects/{project.slug}/")

    # then
    assert response.status_code == 200
    assert response.data["role"] == "owner"


def test_a_wrong_or_expired_token_is_401_on_a_project_url(
    project: Project, member_factory: Callable[..., Membership]
) -> None:
    # given a member's token that has expired
    issued = api_token_create(user=member_factory(project, Role.OWNER).user)
    ApiToken.objects.update(expires_at=timezone.now())
    url = f"/api/projects/{project.slug}/queue/next/"

    # when
    wrong = _client_with("not-a-token").get(url)
    expired = _client_with(issued.key).get(url)

    # then
    assert (wrong.status_code, expired.status_code) == (401, 401)
    assert wrong.json() == {"detail": ERROR_INVALID_TOKEN}
    assert expired.json() == {"detail": ERROR_EXPIRED_TOKEN}


def test_a_session_still_authenticates_project_requests(
    project: Project, member_factory: Callable[..., Membership]
) -> None:
    # given a reviewer logged in with a session, no token
    reviewer = member_factory(project, Role.REVIEWER).user
    client = APIClient()
    client.force_login(reviewer)

    # when
    response = client.get(f"/api/projects/{project.slug}/")

    # then
    assert response.status_code == 200
    assert response.data["role"] == "reviewer"


def test_the_read_answers_as_project_get_for_user_does(
    project: Project, member_factory: Callable[..., Membership]
) -> None:
    # given a reviewer, a project she is not in, and her key
    reviewer = member_factory(project, Role.REVIEWER).user
    key = api_token_create(user=reviewer).key
    other = ProjectFactory()

    # when
    token, mine = api_token_with_project_read(key=key, slug=project.slug)
    _, theirs = api_token_with_project_read(key=key, slug=other.slug)
    _, nowhere = api_token_with_project_read(key=key, slug="nowhere")

    # then
    assert token is not None
    assert token.user == reviewer
    assert mine is not None
    assert mine.membership is not None
    assert mine.membership.role == Role.REVIEWER
    assert theirs == ProjectRead(slug=other.slug, user_id=reviewer.pk, project=other, membership=None)
    assert nowhere == ProjectRead(slug="nowhere", user_id=reviewer.pk, project=None, membership=None)
    assert api_token_with_project_read(key="wrong", slug=project.slug) == (None, None)
    assert project_get_for_user(user=reviewer, slug=project.slug, read=mine).role == Role.REVIEWER


def test_a_read_for_another_slug_or_user_is_not_trusted(
    project: Project, member_factory: Callable[..., Membership]
) -> None:
    # given a read that says "owner" of another project, and one for another user
    analyst = member_factory(project, Role.ANALYST).user
    other = ProjectFactory()
    owner_elsewhere = Membership(project=other, user=analyst, role=Role.OWNER)
    stale = ProjectRead(slug=other.slug, user_id=analyst.pk, project=other, membership=owner_elsewhere)
    someone_else = ProjectRead(
        slug=project.slug, user_id=analyst.pk + 1000, project=project,
        membership=Membership(project=project, user=analyst, role=Role.OWNER),
    )  # fmt: skip

    # when / then the selector reads again
    assert project_get_for_user(user=analyst, slug=project.slug, read=stale).role == Role.ANALYST
    assert project_get_for_user(user=analyst, slug=project.slug, read=someone_else).role == Role.ANALYST
