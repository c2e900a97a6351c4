"""The HTML pages and their htmx fragments: wiring, permissions and error mapping (STYLE.md §5, §8)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from projects.choices import ImportStatus, Role, Split
from projects.models import ImportJob, Item, Membership, Project
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
GOOD_CSV = b"id,text,label\na1,Hello there,ham\na2,Buy cheap pills now,spam\na3,See you at lunch,\n"


@pytest.fixture
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _roles(project: Project) -> dict[str, str]:
    return dict(Membership.objects.filter(project=project).values_list("user__username", "role"))


# --- login, project list, project create -------------------------------------------------------------------
def test_login_page_renders(client: Client) -> None:
    # when
    response = client.get("/accounts/login/")

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Log in</h1>" in html
    assert 'name="username"' in html
    assert 'name="password"' in html


def test_login_with_password_redirects_to_projects(client: Client) -> None:
    # given
    UserFactory(username="alice")

    # when
    response = client.post("/accounts/login/", {"username": "alice", "password": "password123"})

    # then
    assert response.status_code == 302
    assert response["Location"] == "/projects/"


@pytest.mark.parametrize(
    "path",
    ["/projects/", "/projects/{slug}/", "/projects/{slug}/items/", "/projects/{slug}/members/"],
)
def test_anonymous_user_is_redirected_to_login(path: str, client: Client, project: Project) -> None:
    # given
    url = path.format(slug=project.slug)

    # when
    response = client.get(url)

    # then
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


def test_project_list_page_shows_my_projects_only(
    client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given
    mine = ProjectFactory(name="Mine alpha", slug="mine-alpha")
    theirs = ProjectFactory(name="Theirs beta", slug="theirs-beta")
    user = member_factory(mine, Role.ANALYST).user
    member_factory(theirs, Role.OWNER)

    # when
    response = client_for(user).get("/projects/")

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert [p.slug for p in response.context["projects"]] == ["mine-alpha"]
    assert '<a href="/projects/mine-alpha/">Mine alpha</a>' in html
    assert "Theirs beta" not in html
    assert "theirs-beta" not in html


@pytest.mark.parametrize("project_count", [1, 5])
def test_project_list_page_query_count_does_not_grow_with_projects(
    project_count: int, client_for: Callable[..., Client], django_assert_num_queries: Any
) -> None:
    # given
    user = UserFactory()
    for project in ProjectFactory.create_batch(project_count):
        Membership.objects.create(project=project, user=user, role=Role.OWNER)
    client = client_for(user)

    # when
    # session, user, projects, their labels (prefetch)
    with django_assert_num_queries(4):
        response = client.get("/projects/")

    # then
    assert response.status_code == 200
    assert len(response.context["projects"]) == project_count


def test_create_project_via_htmx_redirects_to_it(client_for: Callable[..., Client]) -> None:
    # given
    user = UserFactory()
    data = {"name": "Spam detection", "labels": "ham, spam", "overlap": 2, "instructions": "Be careful."}

    # when
    response = client_for(user).post("/projects/", data, headers=HTMX)

    # then
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/projects/spam-detection/"
    project = Project.objects.get(slug="spam-detection")
    assert (project.name, project.overlap, project.instructions) == ("Spam detection", 2, "Be careful.")
    assert list(project.labels.values_list("key", "hotkey")) == [("ham", "1"), ("spam", "2")]
    assert _roles(project) == {user.username: "owner"}


def test_create_project_without_htmx_redirects_to_it(client_for: Callable[..., Client]) -> None:
    # given
    user = UserFactory()

    # when
    response = client_for(user).post("/projects/", {"name": "Plain", "labels": "a, b", "overlap": 1})

    # then
    assert response.status_code == 302
    assert response["Location"] == "/projects/plain/"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(
            {"name": "", "labels": "ham, spam", "overlap": 1}, "This field is required.", id="no-name"
        ),
        pytest.param(
            {"name": "Solo", "labels": "spam", "overlap": 1},
            "A project needs at least two labels (or one, for a multi-label project or an entity type for a span "
            "project), and at most 50.",
            id="one-label",
        ),
        pytest.param(
            {"name": "Taken", "slug": "taken", "labels": "ham, spam", "overlap": 1},
            "A project with the slug &#x27;taken&#x27; already exists.",
            id="slug-taken",
        ),
    ],
)
def test_invalid_create_form_via_htmx_returns_422_partial(
    data: dict[str, Any], message: str, client_for: Callable[..., Client]
) -> None:
    # given
    ProjectFactory(slug="taken")
    user = UserFactory()

    # when
    response = client_for(user).post("/projects/", data, headers=HTMX)

    # then
    assert response.status_code == 422
    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<form id="create-form"')
    assert message in html
    assert "HX-Redirect" not in response
    assert list(Project.objects.values_list("slug", flat=True)) == ["taken"]
    assert not Membership.objects.filter(user=user).exists()


# --- project detail -----------------------------------------------------------------------------------------
def test_project_detail_renders_sanitised_markdown(
    project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given
    project.instructions = "Mark **bold** claims.\n\n<script>alert('x')</script>\n\n[ok](javascript:alert(2))"
    project.save()
    user = member_factory(project, Role.ANALYST).user

    # when
    response = client_for(user).get(f"/projects/{project.slug}/")

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "<p>Mark <strong>bold</strong> claims.</p>" in html
    assert "<script>alert" not in html
    assert "javascript:" not in html


def test_project_detail_shows_counts(
    project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given
    item = ItemFactory(project=project, split=Split.TRAIN)
    ItemFactory(project=project)
    AnnotationFactory(item=item, labels=["spam"])
    user = member_factory(project, Role.OWNER).user

    # when
    response = client_for(user).get(f"/projects/{project.slug}/")

    # then
    assert response.status_code == 200
    assert response.context["stats"] == {
        "items": 2,
        "by_split": {"none": 1, "train": 1},
        "labeled_items": 1,
        "annotations": 1,
        "per_label": {"ham": 0, "spam": 1},
    }
    assert response.context["can_import"] is True
    assert response.context["can_manage"] is True


# --- items --------------------------------------------------------------------------------------------------
def test_item_text_is_escaped(
    project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given
    item = ItemFactory(project=project, external_id="xss", text="<script>alert(1)</script>")
    client = client_for(member_factory(project, Role.ANALYST).user)

    # when
    listing = client.get(f"/projects/{project.slug}/items/")
    detail = client.get(f"/projects/{project.slug}/items/{item.pk}/")

    # then
    assert (listing.status_code, detail.status_code) == (200, 200)
    for html in (listing.content.decode(), detail.content.decode()):
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_item_detail_shows_annotations(
    project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given
    item = ItemFactory(project=project, external_id="x1")
    AnnotationFactory(item=item, annotator=UserFactory(username="ann"), labels=["spam"])
    client = client_for(member_factory(project, Role.REVIEWER).user)

    # when
    response = client.get(f"/projects/{project.slug}/items/{item.pk}/")

    # then
    assert response.status_code == 200
    assert "<tr><td>spam</td><td>ann</td>" in response.content.decode()


# --- imports ------------------------------------------------------------------------------------------------
def _import_form(content: bytes = GOOD_CSV) -> dict[str, Any]:
    return {
        "file": SimpleUploadedFile("items.csv", content, content_type="text/csv"),
        "text_field": "text",
        "id_field": "id",
        "label_field": "label",
        "has_header": "on",
        "on_conflict": "skip",
    }


def test_import_upload_via_htmx_redirects_to_job_page(
    project: Project,
    media_root: Path,
    client_for: Callable[..., Client],
    member_factory: Callable[..., Membership],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given
    client = client_for(member_factory(project, Role.OWNER).user)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/projects/{project.slug}/imports/", _import_form(), headers=HTMX)
    job = ImportJob.objects.get()
    page = client.get(f"/projects/{project.slug}/imports/{job.pk}/")

    # then
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/projects/{project.slug}/imports/{job.pk}/"
    assert page.status_code == 200
    html = page.content.decode()
    assert '<span class="status status-succeeded">Succeeded</span>' in html
    assert "<dt>Rows</dt><dd>3</dd>" in html
    assert "<dt>Items created</dt><dd>3</dd>" in html
    assert "<dt>Annotations imported</dt><dd>2</dd>" in html
    assert 'hx-trigger="every 1s"' not in html  # finished: the progress region stops polling
    assert Item.objects.filter(project=project).count() == 3


def test_invalid_import_form_via_htmx_returns_422_partial(
    project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given
    client = client_for(member_factory(project, Role.OWNER).user)
    data = {**_import_form(), "label_map": "nonsense"}

    # when
    response = client.post(f"/projects/{project.slug}/imports/", data, headers=HTMX)

    # then
    assert response.status_code == 422
    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<form id="upload-form"')
    assert "&#x27;nonsense&#x27; is not of the form value=label." in html
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (ImportStatus.PENDING, '<span class="status status-pending">Pending</span>'),
        (ImportStatus.FAILED, "Line 3: unknown label"),
    ],
)
def test_import_detail_progress_partial(
    status: str,
    expected: str,
    project: Project,
    client_for: Callable[..., Client],
    member_factory: Callable[..., Membership],
) -> None:
    # given
    job = ImportJob.objects.create(
        project=project, format="csv", status=status, error="Line 3: unknown label 'eggs'", error_line=3
    )
    client = client_for(member_factory(project, Role.DATA_SCIENTIST).user)

    # when
    response = client.get(f"/projects/{project.slug}/imports/{job.pk}/", headers=HTMX)

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert html.strip().startswith('<div id="progress"')
    assert expected in html
    polls = 'hx-trigger="every 1s"' in html
    assert polls is (status == ImportStatus.PENDING)


@pytest.mark.parametrize("method", ["get", "post"])
def test_analyst_cannot_use_import_pages(
    method: str,
    project: Project,
    media_root: Path,
    client_for: Callable[..., Client],
    member_factory: Callable[..., Membership],
) -> None:
    # given
    client = client_for(member_factory(project, Role.ANALYST).user)
    url = f"/projects/{project.slug}/imports/"

    # when
    response = client.post(url, _import_form(), headers=HTMX) if method == "post" else client.get(url)

    # then
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


# --- members ------------------------------------------------------------------------------------------------
def test_owner_adds_member_via_htmx(
    project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given
    owner = member_factory(project, Role.OWNER, username="olive").user
    UserFactory(username="bob")

    # when
    response = client_for(owner).post(
        f"/projects/{project.slug}/members/", {"username": "bob", "role": "reviewer"}, headers=HTMX
    )

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert html.strip().startswith('<div id="members"')
    assert "<tr><td>bob</td>" in html
    assert _roles(project) == {"olive": "owner", "bob": "reviewer"}


def test_add_unknown_member_via_htmx_returns_422(
    project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given
    owner = member_factory(project, Role.OWNER, username="olive").user

    # when
    response = client_for(owner).post(
        f"/projects/{project.slug}/members/", {"username": "ghost", "role": "analyst"}, headers=HTMX
    )

    # then
    assert response.status_code == 422
    html = response.content.decode()
    assert "<html" not in html
    assert "There is no user called &#x27;ghost&#x27;." in html
    assert _roles(project) == {"olive": "owner"}


@pytest.mark.parametrize("role", [Role.ANALYST, Role.REVIEWER, Role.DATA_SCIENTIST])
def test_non_owner_cannot_add_member(
    role: str, project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given
    member_factory(project, Role.OWNER, username="olive")
    user = member_factory(project, role, username="mallory").user
    UserFactory(username="bob")

    # when
    response = client_for(user).post(
        f"/projects/{project.slug}/members/", {"username": "bob", "role": "owner"}, headers=HTMX
    )

    # then
    assert response.status_code == 403
    assert _roles(project) == {"olive": "owner", "mallory": role}


def test_members_page_for_analyst_is_read_only(
    project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given
    member_factory(project, Role.OWNER, username="olive")
    analyst = member_factory(project, Role.ANALYST, username="adam").user

    # when
    response = client_for(analyst).get(f"/projects/{project.slug}/members/")

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "<td>adam</td>" in html
    assert "<td>Analyst</td>" in html
    assert "<td>Owner</td>" in html
    assert '<select name="role"' not in html
    assert "Add a member" not in html


@pytest.mark.parametrize(
    ("data", "expected_roles"),
    [
        pytest.param({"role": "reviewer"}, {"olive": "owner", "adam": "reviewer"}, id="change-role"),
        pytest.param({"remove": "1"}, {"olive": "owner"}, id="remove"),
    ],
)
def test_owner_updates_member_via_htmx(
    data: dict[str, str],
    expected_roles: dict[str, str],
    project: Project,
    client_for: Callable[..., Client],
    member_factory: Callable[..., Membership],
) -> None:
    # given
    owner = member_factory(project, Role.OWNER, username="olive").user
    adam = member_factory(project, Role.ANALYST, username="adam").user

    # when
    response = client_for(owner).post(f"/projects/{project.slug}/members/{adam.pk}/", data, headers=HTMX)

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert html.strip().startswith('<div id="members"')
    assert _roles(project) == expected_roles


@pytest.mark.parametrize("data", [{"role": "analyst"}, {"remove": "1"}], ids=["demote", "remove"])
def test_last_owner_cannot_leave_via_htmx(
    data: dict[str, str],
    project: Project,
    client_for: Callable[..., Client],
    member_factory: Callable[..., Membership],
) -> None:
    # given
    owner = member_factory(project, Role.OWNER, username="olive").user

    # when
    response = client_for(owner).post(f"/projects/{project.slug}/members/{owner.pk}/", data, headers=HTMX)

    # then
    assert response.status_code == 422
    assert '<div class="error" role="alert"><p>A project must keep at least one owner.</p></div>' in (
        response.content.decode()
    )
    assert _roles(project) == {"olive": "owner"}


# --- non-members --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/projects/{slug}/"),
        ("get", "/projects/{slug}/items/"),
        ("get", "/projects/{slug}/items/{item_id}/"),
        ("get", "/projects/{slug}/imports/"),
        ("post", "/projects/{slug}/imports/"),
        ("get", "/projects/{slug}/imports/{job_id}/"),
        ("get", "/projects/{slug}/members/"),
        ("post", "/projects/{slug}/members/"),
        ("post", "/projects/{slug}/members/{user_id}/"),
    ],
)
def test_non_member_gets_404_on_every_project_page(
    method: str,
    path: str,
    project: Project,
    client_for: Callable[..., Client],
    member_factory: Callable[..., Membership],
) -> None:
    # given
    owner = member_factory(project, Role.OWNER, username="olive").user
    item = ItemFactory(project=project)
    job = ImportJob.objects.create(project=project, format="csv")
    stranger = member_factory(ProjectFactory(), Role.OWNER).user
    url = path.format(slug=project.slug, item_id=item.pk, job_id=job.pk, user_id=owner.pk)

    # when
    response = getattr(client_for(stranger), method)(url, {"username": stranger.username, "role": "owner"})

    # then
    assert response.status_code == 404
    assert _roles(project) == {"olive": "owner"}
    assert ImportJob.objects.count() == 1


def test_unknown_project_is_404(client_for: Callable[..., Client]) -> None:
    # when
    response = client_for(UserFactory()).get("/projects/no-such-project/")

    # then
    assert response.status_code == 404
