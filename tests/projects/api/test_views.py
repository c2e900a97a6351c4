"""The REST API: wiring, permissions and error mapping (STYLE.md §8). Behaviour lives in the service tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.models import ApiToken
from projects.choices import Role
from projects.models import ImportJob, Item, Label, Membership, Project
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

GOOD_CSV = b"id,text,label\na1,Hello there,ham\na2,Buy cheap pills now,spam\na3,See you at lunch,\n"
NO_LABELS = (
    "A project needs at least two labels (or one, for a multi-label project or an entity type for a span "
    "project), and at most 50."
)
BAD_CSV = b"id,text,label\na1,Hello there,ham\na2,Buy cheap pills now,eggs\na3,See you at lunch,\n"


@pytest.fixture
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _csv_upload(content: bytes, name: str = "items.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def _project_state(project: Project) -> dict[str, Any]:
    project.refresh_from_db()
    return {"name": project.name, "description": project.description, "overlap": project.overlap}


def _roles(project: Project) -> dict[str, str]:
    return dict(Membership.objects.filter(project=project).values_list("user__username", "role"))


# --- projects -----------------------------------------------------------------------------------------------
def test_project_list_shows_only_my_projects(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> None:
    # given
    other = ProjectFactory(name="Zeta other", slug="zeta-other")
    member_factory(other, Role.OWNER)
    analyst = member_factory(project, Role.ANALYST).user

    # when
    response = api_client_for(analyst).get("/api/projects/")

    # then
    assert response.status_code == 200
    assert response.data["count"] == 1
    assert [(p["slug"], p["role"]) for p in response.data["results"]] == [(project.slug, "analyst")]
    assert [label["key"] for label in response.data["results"][0]["labels"]] == ["ham", "spam"]


@pytest.mark.parametrize("project_count", [1, 4])
def test_project_list_query_count_does_not_grow_with_projects(
    project_count: int,
    api_client_for: Callable[..., APIClient],
    django_assert_num_queries: Any,
) -> None:
    # given
    user = UserFactory()
    for project in ProjectFactory.create_batch(project_count):
        Membership.objects.create(project=project, user=user, role=Role.OWNER)
    client = api_client_for(user)

    # when
    # count, page of projects, their labels (prefetch), the user's roles
    with django_assert_num_queries(4):
        response = client.get("/api/projects/")

    # then
    assert response.status_code == 200
    assert response.data["count"] == project_count


@pytest.mark.parametrize(
    "path",
    [
        "/api/projects/{slug}/",
        "/api/projects/{slug}/items/",
        "/api/projects/{slug}/items/{item_id}/",
        "/api/projects/{slug}/members/",
        "/api/projects/{slug}/imports/",
    ],
)
def test_non_member_gets_404_on_other_projects(
    path: str,
    project: Project,
    member_factory: Callable[..., Membership],
    api_client_for: Callable[..., APIClient],
) -> None:
    # given
    other = ProjectFactory()
    item = ItemFactory(project=other)
    analyst = member_factory(project, Role.ANALYST).user

    # when
    response = api_client_for(analyst).get(path.format(slug=other.slug, item_id=item.pk))

    # then
    assert response.status_code == 404
    assert response.data == {"detail": "Project not found.", "code": "not_found"}


def test_project_detail_for_member(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> None:
    # given
    reviewer = member_factory(project, Role.REVIEWER).user

    # when
    response = api_client_for(reviewer).get(f"/api/projects/{project.slug}/")

    # then
    assert response.status_code == 200
    assert response.data["slug"] == project.slug
    assert response.data["role"] == "reviewer"
    assert response.data["instructions"] == "Label **spam** as spam."
    assert response.data["instructions_html"] == "<p>Label <strong>spam</strong> as spam.</p>"


def test_create_project_makes_creator_owner_with_default_hotkeys(
    api_client_for: Callable[..., APIClient],
) -> None:
    # given
    user = UserFactory()
    payload = {
        "name": "Spam detection",
        "instructions": "Be *careful*.",
        "labels": [{"key": "ham"}, {"key": "spam", "name": "Spam!"}, {"key": "Not sure"}],
    }

    # when
    response = api_client_for(user).post("/api/projects/", payload, format="json")

    # then
    assert response.status_code == 201
    assert response.data["slug"] == "spam-detection"
    assert response.data["name"] == "Spam detection"
    assert response.data["role"] == "owner"
    assert response.data["multi_label"] is False
    assert response.data["overlap"] == 1
    assert response.data["labels"] == [
        {"key": "ham", "name": "ham", "hotkey": "1", "color": "#2563eb", "order": 0, "retired_at": None},
        {"key": "spam", "name": "Spam!", "hotkey": "2", "color": "#dc2626", "order": 1, "retired_at": None},
        {
            "key": "not_sure",
            "name": "Not sure",
            "hotkey": "3",
            "color": "#16a34a",
            "order": 2,
            "retired_at": None,
        },
    ]
    project = Project.objects.get(slug="spam-detection")
    assert project.created_by == user
    assert _roles(project) == {user.username: "owner"}


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        pytest.param(
            {"name": "One label", "labels": [{"key": "spam"}]},
            {"detail": NO_LABELS, "code": "labels"},
            id="one-label",
        ),
        pytest.param(
            {"name": "Dupes", "labels": [{"key": "spam"}, {"key": "Spam"}]},
            {"detail": "Label 'spam' is given twice.", "code": "labels"},
            id="duplicate-labels",
        ),
        pytest.param(
            {"name": "Taken", "slug": "taken", "labels": [{"key": "ham"}, {"key": "spam"}]},
            {"detail": "A project with the slug 'taken' already exists.", "code": "slug_taken"},
            id="slug-taken",
        ),
        pytest.param(
            {"name": "No labels"},
            {"labels": ["This field is required."]},
            id="labels-missing",
        ),
        pytest.param(
            {"name": "Too much", "overlap": 21, "labels": [{"key": "ham"}, {"key": "spam"}]},
            {"overlap": ["Ensure this value is less than or equal to 20."]},
            id="overlap-too-high",
        ),
    ],
)
def test_create_project_with_bad_input_is_400(
    payload: dict[str, Any], expected: dict[str, Any], api_client_for: Callable[..., APIClient]
) -> None:
    # given
    existing = ProjectFactory(slug="taken")
    user = UserFactory()

    # when
    response = api_client_for(user).post("/api/projects/", payload, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == expected
    assert list(Project.objects.values_list("slug", flat=True)) == [existing.slug]
    assert not Membership.objects.filter(user=user).exists()


def test_owner_patches_project(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> None:
    # given
    owner = member_factory(project, Role.OWNER).user

    # when
    response = api_client_for(owner).patch(
        f"/api/projects/{project.slug}/", {"name": "Renamed", "overlap": 3}, format="json"
    )

    # then
    assert response.status_code == 200
    assert (response.data["name"], response.data["overlap"]) == ("Renamed", 3)
    assert _project_state(project) == {"name": "Renamed", "description": "", "overlap": 3}


@pytest.mark.parametrize("role", [Role.ANALYST, Role.REVIEWER, Role.DATA_SCIENTIST])
def test_non_owner_cannot_patch_project(
    role: str,
    project: Project,
    member_factory: Callable[..., Membership],
    api_client_for: Callable[..., APIClient],
) -> None:
    # given
    user = member_factory(project, role).user
    before = _project_state(project)

    # when
    response = api_client_for(user).patch(
        f"/api/projects/{project.slug}/", {"name": "Hijacked", "overlap": 5}, format="json"
    )

    # then
    assert response.status_code == 403
    assert response.data == {"detail": "You do not have permission to do this.", "code": "permission_denied"}
    assert _project_state(project) == before


# --- members ------------------------------------------------------------------------------------------------
def test_owner_adds_member(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> None:
    # given
    owner = member_factory(project, Role.OWNER, username="olive").user
    bob = UserFactory(username="bob")

    # when
    response = api_client_for(owner).post(
        f"/api/projects/{project.slug}/members/", {"username": "bob", "role": "reviewer"}, format="json"
    )

    # then
    assert response.status_code == 201
    assert {k: response.data[k] for k in ("user_id", "username", "role")} == {
        "user_id": bob.pk,
        "username": "bob",
        "role": "reviewer",
    }
    assert _roles(project) == {"olive": "owner", "bob": "reviewer"}


def test_member_list(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> None:
    # given
    member_factory(project, Role.OWNER, username="olive")
    analyst = member_factory(project, Role.ANALYST, username="adam").user

    # when
    response = api_client_for(analyst).get(f"/api/projects/{project.slug}/members/")

    # then
    assert response.status_code == 200
    assert [(m["username"], m["role"]) for m in response.data] == [("adam", "analyst"), ("olive", "owner")]


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        pytest.param(
            {"username": "ghost", "role": "analyst"},
            {"detail": "There is no user called 'ghost'.", "code": "unknown_user"},
            id="unknown-user",
        ),
        pytest.param(
            {"username": "olive", "role": "analyst"},
            {"detail": "'olive' is already a member of this project.", "code": "already_member"},
            id="already-member",
        ),
        pytest.param(
            {"username": "olive", "role": "boss"},
            {"role": ['"boss" is not a valid choice.']},
            id="bad-role",
        ),
    ],
)
def test_add_member_with_bad_input_is_400(
    payload: dict[str, str],
    expected: dict[str, Any],
    project: Project,
    member_factory: Callable[..., Membership],
    api_client_for: Callable[..., APIClient],
) -> None:
    # given
    owner = member_factory(project, Role.OWNER, username="olive").user

    # when
    response = api_client_for(owner).post(f"/api/projects/{project.slug}/members/", payload, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == expected
    assert _roles(project) == {"olive": "owner"}


def test_analyst_cannot_add_member(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> None:
    # given
    member_factory(project, Role.OWNER, username="olive")
    analyst = member_factory(project, Role.ANALYST, username="adam").user
    UserFactory(username="bob")

    # when
    response = api_client_for(analyst).post(
        f"/api/projects/{project.slug}/members/", {"username": "bob", "role": "owner"}, format="json"
    )

    # then
    assert response.status_code == 403
    assert _roles(project) == {"olive": "owner", "adam": "analyst"}


def test_owner_changes_member_role(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> None:
    # given
    owner = member_factory(project, Role.OWNER, username="olive").user
    adam = member_factory(project, Role.ANALYST, username="adam").user

    # when
    response = api_client_for(owner).patch(
        f"/api/projects/{project.slug}/members/{adam.pk}/", {"role": "data_scientist"}, format="json"
    )

    # then
    assert response.status_code == 200
    assert response.data["role"] == "data_scientist"
    assert _roles(project) == {"olive": "owner", "adam": "data_scientist"}


def test_owner_removes_member(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> None:
    # given
    owner = member_factory(project, Role.OWNER, username="olive").user
    adam = member_factory(project, Role.ANALYST, username="adam").user

    # when
    response = api_client_for(owner).delete(f"/api/projects/{project.slug}/members/{adam.pk}/")

    # then
    assert response.status_code == 204
    assert _roles(project) == {"olive": "owner"}


@pytest.mark.parametrize(
    ("method", "payload"),
    [pytest.param("delete", None, id="remove"), pytest.param("patch", {"role": "analyst"}, id="demote")],
)
def test_last_owner_cannot_leave_or_be_demoted(
    method: str,
    payload: dict[str, str] | None,
    project: Project,
    member_factory: Callable[..., Membership],
    api_client_for: Callable[..., APIClient],
) -> None:
    # given
    owner = member_factory(project, Role.OWNER, username="olive").user
    member_factory(project, Role.ANALYST, username="adam")
    client = api_client_for(owner)

    # when
    response = getattr(client, method)(
        f"/api/projects/{project.slug}/members/{owner.pk}/", payload, format="json"
    )

    # then
    assert response.status_code == 400
    assert response.json() == {"detail": "A project must keep at least one owner.", "code": "last_owner"}
    assert _roles(project) == {"olive": "owner", "adam": "analyst"}


def test_change_role_of_non_member_is_404(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> None:
    # given
    owner = member_factory(project, Role.OWNER).user
    stranger = UserFactory()

    # when
    response = api_client_for(owner).patch(
        f"/api/projects/{project.slug}/members/{stranger.pk}/", {"role": "owner"}, format="json"
    )

    # then
    assert response.status_code == 404
    assert response.data == {"detail": "Member not found.", "code": "not_found"}
    assert not Membership.objects.filter(user=stranger).exists()


# --- items (the list is the item browser's: tests/oversight/api/test_item_api.py) -----------------------------
def test_item_detail_includes_annotations(
    project: Project,
    member_factory: Callable[..., Membership],
    api_client_for: Callable[..., APIClient],
) -> None:
    # given
    item = ItemFactory(project=project, external_id="x1", text="Win a prize", metadata={"source": "sms"})
    AnnotationFactory(item=item, annotator=UserFactory(username="ann"), labels=["spam"], lead_time_ms=1200)
    AnnotationFactory(item=item, annotator=UserFactory(username="ben"), labels=["ham"])
    client = api_client_for(member_factory(project, Role.REVIEWER).user)

    # when
    response = client.get(f"/api/projects/{project.slug}/items/{item.pk}/")

    # then
    assert response.status_code == 200
    assert (response.data["external_id"], response.data["text"], response.data["metadata"]) == (
        "x1",
        "Win a prize",
        {"source": "sms"},
    )
    assert response.data["annotation_count"] == 2
    assert [
        (a["annotator"], a["labels"], a["source"], a["lead_time_ms"]) for a in response.data["annotations"]
    ] == [("ann", ["spam"], "human", 1200), ("ben", ["ham"], "human", None)]


def test_item_of_another_project_is_404(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> None:
    # given
    foreign = ItemFactory(project=ProjectFactory())
    client = api_client_for(member_factory(project, Role.OWNER).user)

    # when
    response = client.get(f"/api/projects/{project.slug}/items/{foreign.pk}/")

    # then
    assert response.status_code == 404
    assert response.data == {"detail": "Item not found.", "code": "not_found"}


# --- imports ------------------------------------------------------------------------------------------------
def _post_import(client: APIClient, project: Project, content: bytes) -> Any:
    return client.post(
        f"/api/projects/{project.slug}/imports/",
        {"file": _csv_upload(content), "text_field": "text", "id_field": "id", "label_field": "label"},
        format="multipart",
    )


@pytest.mark.parametrize("role", [Role.OWNER, Role.DATA_SCIENTIST])
def test_upload_csv_import_succeeds(
    role: str,
    project: Project,
    media_root: Path,
    member_factory: Callable[..., Membership],
    api_client_for: Callable[..., APIClient],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given
    client = api_client_for(member_factory(project, role).user)

    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _post_import(client, project, GOOD_CSV)
    detail = client.get(f"/api/projects/{project.slug}/imports/{response.data['id']}/")

    # then
    assert response.status_code == 202
    # The test's transaction defers the commit, so the job is still queued when the response is built.
    assert (response.data["status"], response.data["format"], response.data["original_name"]) == (
        "pending",
        "csv",
        "items.csv",
    )
    # one import job is handed to the workers (and, once it has run, its items' search refresh)
    assert [repr(callback).count("import_job_run_task") for callback in callbacks][:1] == [1]
    assert sum("import_job_run_task" in repr(callback) for callback in callbacks) == 1
    assert detail.status_code == 200
    assert {
        key: detail.data[key]
        for key in (
            "status", "rows_total", "items_created", "items_updated", "items_skipped", "annotations_imported",
            "votes_imported", "error", "error_line", "progress",
        )
    } == {
        "status": "succeeded", "rows_total": 3, "items_created": 3, "items_updated": 0, "items_skipped": 0,
        "annotations_imported": 2, "votes_imported": 0, "error": "", "error_line": None,
        "progress": {"rows": 3, "fraction": 1.0, "percent": 100},
    }  # fmt: skip
    assert list(
        Item.objects.filter(project=project).order_by("external_id").values_list("external_id", "text")
    ) == [
        ("a1", "Hello there"),
        ("a2", "Buy cheap pills now"),
        ("a3", "See you at lunch"),
    ]
    assert sorted(project.annotations.values_list("item__external_id", "labels")) == [
        ("a1", ["ham"]),
        ("a2", ["spam"]),
    ]


def test_upload_bad_csv_import_fails_and_imports_nothing(
    project: Project,
    media_root: Path,
    member_factory: Callable[..., Membership],
    api_client_for: Callable[..., APIClient],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given
    client = api_client_for(member_factory(project, Role.OWNER).user)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = _post_import(client, project, BAD_CSV)
    detail = client.get(f"/api/projects/{project.slug}/imports/{response.data['id']}/")

    # then
    assert response.status_code == 202
    assert detail.status_code == 200
    assert {
        key: detail.data[key] for key in ("status", "error", "error_line", "rows_total", "items_created")
    } == {
        "status": "failed",
        "error": "Line 3: unknown label 'eggs'; the project's labels are: ham, spam.",
        "error_line": 3,
        "rows_total": 0,
        "items_created": 0,
    }
    assert detail.data["progress"] == {"rows": 0, "fraction": 0.0, "percent": 0}
    assert not Item.objects.filter(project=project).exists()
    assert not project.annotations.exists()


def test_import_list_shows_jobs_newest_first(
    project: Project,
    media_root: Path,
    member_factory: Callable[..., Membership],
    api_client_for: Callable[..., APIClient],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given
    client = api_client_for(member_factory(project, Role.OWNER).user)
    with django_capture_on_commit_callbacks(execute=True):
        first = _post_import(client, project, GOOD_CSV)
    with django_capture_on_commit_callbacks(execute=True):
        second = _post_import(client, project, BAD_CSV)

    # when
    everything = client.get(f"/api/projects/{project.slug}/imports/")
    failed = client.get(f"/api/projects/{project.slug}/imports/", {"status": "failed"})

    # then
    assert everything.status_code == 200
    assert [(j["id"], j["status"]) for j in everything.data["results"]] == [
        (second.data["id"], "failed"),
        (first.data["id"], "succeeded"),
    ]
    assert [j["id"] for j in failed.data["results"]] == [second.data["id"]]


@pytest.mark.parametrize("role", [Role.ANALYST, Role.REVIEWER])
def test_member_without_import_role_cannot_import(
    role: str,
    project: Project,
    media_root: Path,
    member_factory: Callable[..., Membership],
    api_client_for: Callable[..., APIClient],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given
    client = api_client_for(member_factory(project, role).user)

    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _post_import(client, project, GOOD_CSV)

    # then
    assert response.status_code == 403
    assert response.data == {"detail": "You do not have permission to do this.", "code": "permission_denied"}
    assert callbacks == []
    assert not ImportJob.objects.exists()
    assert not Item.objects.exists()


def test_import_without_file_is_400(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> None:
    # given
    client = api_client_for(member_factory(project, Role.OWNER).user)

    # when
    response = client.post(
        f"/api/projects/{project.slug}/imports/", {"text_field": "text"}, format="multipart"
    )

    # then
    assert response.status_code == 400
    assert response.json() == {"file": ["No file was submitted."]}
    assert not ImportJob.objects.exists()


# --- authentication, schema, docs ---------------------------------------------------------------------------
def test_token_auth_lists_projects(project: Project, member_factory: Callable[..., Membership]) -> None:
    # given
    user = member_factory(project, Role.ANALYST, username="tokenuser").user
    client = APIClient()

    # when
    token_response = client.post(
        "/api/auth/token/", {"username": "tokenuser", "password": "password123"}, format="json"
    )
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_response.data['token']}")
    response = client.get("/api/projects/")

    # then
    assert token_response.status_code == 200
    token = ApiToken.objects.get(user=user)
    assert token_response.data == {
        "token": token_response.data["token"],
        "expires_at": token.expires_at.isoformat().replace("+00:00", "Z"),
    }
    assert token.digest == ApiToken.digest_of(token_response.data["token"])
    assert response.status_code == 200
    assert [p["slug"] for p in response.data["results"]] == [project.slug]


def test_token_with_wrong_password_is_400(
    project: Project, member_factory: Callable[..., Membership]
) -> None:
    # given
    user = member_factory(project, Role.ANALYST, username="tokenuser").user

    # when
    response = APIClient().post(
        "/api/auth/token/", {"username": "tokenuser", "password": "nope"}, format="json"
    )

    # then
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Unable to log in with provided credentials."]}
    assert not ApiToken.objects.filter(user=user).exists()


def test_bad_token_is_rejected(project: Project) -> None:
    # given
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    # when
    response = client.get("/api/projects/")

    # then
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/projects/"),
        ("post", "/api/projects/"),
        ("get", "/api/projects/{slug}/"),
        ("get", "/api/projects/{slug}/items/"),
        ("get", "/api/projects/{slug}/members/"),
        ("post", "/api/projects/{slug}/imports/"),
    ],
)
def test_unauthenticated_is_rejected(method: str, path: str, project: Project) -> None:
    # given
    client = APIClient()

    # when
    response = getattr(client, method)(path.format(slug=project.slug))

    # then
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert Project.objects.count() == 1
    assert not ImportJob.objects.exists()


def test_openapi_schema_lists_import_paths() -> None:
    # given
    client = APIClient()

    # when
    response = client.get("/api/schema/", {"format": "json"})

    # then
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert set(paths["/api/projects/{slug}/imports/"]) >= {"get", "post"}
    assert "multipart/form-data" in paths["/api/projects/{slug}/imports/"]["post"]["requestBody"]["content"]
    assert "/api/projects/{slug}/imports/{job_id}/" in paths
    assert "/api/projects/{slug}/items/" in paths


def test_api_docs_are_served_locally() -> None:
    # given
    client = APIClient()

    # when
    response = client.get("/api/docs/")

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn" not in html.lower()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css" in html
    # the set-up script is a file of its own (no inline script under the Content-Security-Policy)
    assert '<script src="/api/docs/?script="></script>' in html
    assert "/api/schema/" in client.get("/api/docs/?script=").content.decode()


def test_label_rows_match_created_project(api_client_for: Callable[..., APIClient]) -> None:
    # given
    user = UserFactory()

    # when
    response = api_client_for(user).post(
        "/api/projects/",
        {"name": "Colors", "labels": [{"key": "red", "hotkey": "r", "color": "#ff0000"}, {"key": "blue"}]},
        format="json",
    )

    # then
    assert response.status_code == 201
    assert list(
        Label.objects.filter(project__slug="colors").values_list("key", "hotkey", "color", "order")
    ) == [("red", "r", "#ff0000", 0), ("blue", "2", "#dc2626", 1)]
