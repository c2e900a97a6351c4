"""The labeling view and its htmx actions: wiring, escaping, errors (behaviour lives in the service tests)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from django.test import Client

from labeling.choices import EventType
from labeling.models import Annotation, Assignment, Flag, InteractionEvent
from projects.choices import Role
from projects.models import Membership, Project
from tests.projects.factories import ItemFactory, ProjectFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def test_the_label_page_shows_the_next_item_escaped_with_hotkeys(
    project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given
    item = ItemFactory(project=project, text='<script>alert("x")</script> <b>bold</b>')
    analyst = member_factory(project, Role.ANALYST).user

    # when
    response = client_for(analyst).get(f"/projects/{project.slug}/label/")

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "<script>alert" not in html
    assert f'data-item-id="{item.pk}"' in html
    assert 'data-hotkey="1"' in html
    assert 'data-hotkey="2"' in html
    assert "Label <strong>spam</strong> as spam." in html  # the instructions panel
    assert InteractionEvent.objects.filter(type=EventType.VIEW, item=item).count() == 1


def test_an_htmx_submission_returns_the_next_items_panel(
    project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given
    first, second = ItemFactory.create_batch(2, project=project)
    client = client_for(member_factory(project, Role.ANALYST).user)
    client.get(f"/projects/{project.slug}/label/")
    data = {"item_id": first.pk, "labels": "spam", "client_uuid": str(uuid.uuid4()), "lead_time_ms": "850",
            "input_method": "hotkey", "client_ts": "1763900000000",
            "rationales": '[{"start": 0, "end": 4, "quote": "Item"}]'}  # fmt: skip

    # when
    response = client.post(f"/projects/{project.slug}/label/submit/", data, headers=HTMX)
    retry = client.post(f"/projects/{project.slug}/label/submit/", data, headers=HTMX)

    # then
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<div id="labeling-panel"')
    assert f'data-item-id="{second.pk}"' in response.content.decode()
    assert retry.status_code == 200
    annotation = Annotation.objects.get()
    assert (annotation.item_id, annotation.labels, annotation.lead_time_ms) == (first.pk, ["spam"], 850)
    assert annotation.rationales.get().quote == "Item"
    submit = InteractionEvent.objects.get(type=EventType.SUBMIT)
    assert submit.client_ts is not None
    assert submit.payload["input_method"] == "hotkey"


def test_a_bad_submission_shows_an_error_and_keeps_the_item(
    project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    item = ItemFactory(project=project)
    client = client_for(member_factory(project, Role.ANALYST).user)
    data = {"item_id": item.pk, "labels": "eggs", "client_uuid": str(uuid.uuid4())}

    response = client.post(f"/projects/{project.slug}/label/submit/", data, headers=HTMX)

    assert response.status_code == 422
    assert response["HX-Retarget"] == "#flash"
    assert "Select a valid choice. eggs is not one of the available choices." in response.content.decode()
    assert Annotation.objects.count() == 0


def test_a_plain_form_post_works_without_javascript(
    project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    item = ItemFactory(project=project)
    client = client_for(member_factory(project, Role.ANALYST).user)

    response = client.post(f"/projects/{project.slug}/label/submit/",
                           {"item_id": item.pk, "labels": "ham", "client_uuid": str(uuid.uuid4())})  # fmt: skip

    assert response.status_code == 302
    assert response["Location"] == f"/projects/{project.slug}/label/"
    assert Annotation.objects.get().labels == ["ham"]


def test_skip_undo_and_flag_through_the_page(
    project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given
    first, second = ItemFactory.create_batch(2, project=project)
    client = client_for(member_factory(project, Role.ANALYST).user)
    base = f"/projects/{project.slug}/label"
    client.post(f"{base}/submit/", {"item_id": first.pk, "labels": "ham", "client_uuid": str(uuid.uuid4())},
                headers=HTMX)  # fmt: skip

    # when
    flagged = client.post(f"{base}/flag/", {"item_id": second.pk, "comment": "garbled"}, headers=HTMX)
    skipped = client.post(f"{base}/skip/", {"item_id": second.pk, "dwell_ms": "300"}, headers=HTMX)
    undone = client.post(f"{base}/undo/", {"input_method": "click"}, headers=HTMX)

    # then
    assert "Flagged for review" in flagged.content.decode()
    assert Flag.objects.get().comment == "garbled"
    assert "Nothing left for you here" in skipped.content.decode()
    assert "Bring back the 1 item you skipped" in skipped.content.decode()
    assert f'data-item-id="{first.pk}"' in undone.content.decode()
    assert "Undone: you had answered <b>ham</b>" in undone.content.decode()
    assert Annotation.objects.count() == 0
    assert Assignment.objects.get(item=second).status == Assignment.Status.SKIPPED


def test_undo_with_nothing_to_undo_shows_an_error(
    project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    client = client_for(member_factory(project, Role.ANALYST).user)
    response = client.post(f"/projects/{project.slug}/label/undo/", {}, headers=HTMX)
    assert response.status_code == 422
    assert "There is no submission of yours to undo in this project." in response.content.decode()


def test_a_member_of_another_project_cannot_label_here(
    client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given
    mine, theirs = ProjectFactory(), ProjectFactory()
    item = ItemFactory(project=theirs)
    client = client_for(member_factory(mine, Role.ANALYST).user)

    # when
    page = client.get(f"/projects/{theirs.slug}/label/")
    data = {"item_id": item.pk, "labels": "ham", "client_uuid": str(uuid.uuid4())}
    post = client.post(f"/projects/{theirs.slug}/label/submit/", data, headers=HTMX)

    # then
    assert (page.status_code, post.status_code) == (404, 404)
    assert Annotation.objects.count() == 0
    assert InteractionEvent.objects.count() == 0


def test_the_item_page_shows_its_history(
    project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    item = ItemFactory(project=project)
    owner = member_factory(project, Role.OWNER).user
    client = client_for(owner)
    client.post(f"/projects/{project.slug}/label/flag/", {"item_id": item.pk, "comment": "odd"}, headers=HTMX)

    response = client.get(f"/projects/{project.slug}/items/{item.pk}/")

    html = response.content.decode()
    assert "<h2>Flags</h2>" in html
    assert "odd" in html
    assert "Flag</td>" in html


def test_the_owner_changes_overlap_and_lease_in_settings(
    project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given
    item = ItemFactory(project=project)
    owner = member_factory(project, Role.OWNER).user
    data = {
        "name": "Renamed",
        "description": "",
        "instructions": "Be careful.",
        "overlap": "3",
        "lease_seconds": "120",
    }

    # when
    response = client_for(owner).post(f"/projects/{project.slug}/settings/", data, headers=HTMX)

    # then
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/projects/{project.slug}/settings/"
    project.refresh_from_db()
    item.refresh_from_db()
    assert (project.name, project.overlap, project.lease_seconds, item.remaining) == ("Renamed", 3, 120, 3)


def test_settings_refuse_bad_values_and_analysts(
    project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    owner = member_factory(project, Role.OWNER).user
    analyst = member_factory(project, Role.ANALYST).user
    bad = {"name": "X", "overlap": "0", "lease_seconds": "5"}

    invalid = client_for(owner).post(f"/projects/{project.slug}/settings/", bad, headers=HTMX)
    denied = client_for(analyst).get(f"/projects/{project.slug}/settings/")

    assert invalid.status_code == 422
    assert "Ensure this value is greater than or equal to 10." in invalid.content.decode()
    assert denied.status_code == 403
    project.refresh_from_db()
    assert (project.overlap, project.lease_seconds) == (1, 600)


def test_a_multi_label_project_takes_toggles_and_one_submit(
    client_for: Callable[..., Client],
    member_factory: Callable[..., Membership],
    django_assert_max_num_queries,
) -> None:  # type: ignore[no-untyped-def]
    # given
    project = ProjectFactory(multi_label=True, labels=["billing", "urgent", "other"])
    first, _ = ItemFactory.create_batch(2, project=project)
    client = client_for(member_factory(project, Role.ANALYST).user)
    page = client.get(f"/projects/{project.slug}/label/").content.decode()
    data = {"item_id": first.pk, "labels": ["urgent", "billing"], "client_uuid": str(uuid.uuid4())}

    # when
    with django_assert_max_num_queries(40):
        response = client.post(f"/projects/{project.slug}/label/submit/", data, headers=HTMX)

    # then
    assert 'type="checkbox" name="labels" value="urgent"' in page
    assert "data-submit" in page
    assert response.status_code == 200
    assert Annotation.objects.get().labels == ["billing", "urgent"]  # schema order


def test_the_settings_page_decides_whether_analysts_see_suggestions(
    project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given
    owner = client_for(member_factory(project, Role.OWNER).user)
    data = {"name": project.name, "overlap": "1", "lease_seconds": "600"}

    # when
    page = owner.get(f"/projects/{project.slug}/settings/").content.decode()
    off = owner.post(f"/projects/{project.slug}/settings/", data, headers=HTMX)
    project.refresh_from_db()
    was_off = project.analysts_see_suggestions
    on = owner.post(
        f"/projects/{project.slug}/settings/", {**data, "analysts_see_suggestions": "on"}, headers=HTMX
    )
    project.refresh_from_db()

    # then the box is ticked by default, and unticking it keeps analysts blind to the model
    assert re.search(r'<input type="checkbox" name="analysts_see_suggestions"[^>]* checked>', page)
    assert (off.status_code, on.status_code) == (200, 200)
    assert (was_off, project.analysts_see_suggestions) == (False, True)


@pytest.mark.parametrize(
    ("role", "may_import"),
    [(Role.OWNER, True), (Role.DATA_SCIENTIST, True), (Role.REVIEWER, False), (Role.ANALYST, False)],
)
def test_the_label_tab_of_a_project_without_items_points_to_the_import(
    role: str, may_import: bool, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given a new project with no items
    project = ProjectFactory()
    client = client_for(member_factory(project, role).user)

    # when
    html = client.get(f"/projects/{project.slug}/label/").content.decode()

    # then it says so, with the import page's link for those who may import
    assert "This project has no items yet" in html
    assert "Nothing left for you here" not in html
    assert (f'href="/projects/{project.slug}/imports/"' in html) is may_import
    assert ("until the project's owner or a data scientist imports items" in html) is not may_import


def test_the_label_tab_of_a_project_whose_items_are_all_done_says_nothing_is_left(
    client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given a project whose only item is done
    project = ProjectFactory()
    ItemFactory(project=project, remaining=0)
    client = client_for(member_factory(project, Role.OWNER).user)

    # when
    html = client.get(f"/projects/{project.slug}/label/").content.decode()

    # then
    assert "Nothing left for you here" in html
    assert "This project has no items yet" not in html


def test_the_panel_after_an_answer_clears_the_flash_out_of_band(
    project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given an analyst who flagged the item she sees
    first, second = ItemFactory.create_batch(2, project=project)
    client = client_for(member_factory(project, Role.ANALYST).user)
    flagged = client.post(f"/projects/{project.slug}/label/flag/", {"item_id": first.pk}, headers=HTMX)
    assert "Flagged for review" in flagged.content.decode()

    # when she answers it
    data = {"item_id": first.pk, "labels": "spam", "client_uuid": str(uuid.uuid4())}
    response = client.post(f"/projects/{project.slug}/label/submit/", data, headers=HTMX)

    # then the next item's panel comes with an empty flash, swapped out of band
    html = response.content.decode()
    assert f'data-item-id="{second.pk}"' in html
    assert '<div id="flash" hx-swap-oob="innerHTML"></div>' in html
