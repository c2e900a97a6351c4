"""The reviewer view, gold labels page and feedback page: wiring, escaping, permissions (behaviour lives in the
service tests)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from labeling.models import GoldLabel
from labeling.services.interactions import item_flag
from oversight.models import ReviewRequest
from oversight.services.review import review_decide
from projects.choices import Role
from projects.models import Membership, Project
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def review_project() -> Project:
    return ProjectFactory(overlap=2, review_audit_rate=0.0)


def test_the_review_page_shows_the_item_its_annotations_and_the_suggested_label_escaped(
    review_project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given
    item = ItemFactory(project=review_project, text="<script>x()</script> win a prize")
    AnnotationFactory(item=item, labels=["spam"], annotator=UserFactory(username="alice"))
    AnnotationFactory(item=item, labels=["spam"], annotator=UserFactory(username="carol"))
    item_flag(project=review_project, user=UserFactory(), item_id=item.pk, comment="<b>odd</b>")
    reviewer = member_factory(review_project, Role.REVIEWER).user

    # when
    response = client_for(reviewer).get(f"/projects/{review_project.slug}/review/")

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "&lt;script&gt;x()&lt;/script&gt; win a prize" in html
    assert "&lt;b&gt;odd&lt;/b&gt;" in html
    assert "<script>x()" not in html
    assert f'data-item-id="{item.pk}"' in html
    assert 'type="radio" name="labels" value="spam" checked' in html
    assert "alice" in html
    assert "carol" in html
    assert ReviewRequest.objects.get(item=item).claimed_by == reviewer


def test_an_htmx_decision_returns_the_next_items_panel(
    review_project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given
    first, second = ItemFactory.create_batch(2, project=review_project)
    for item in (first, second):
        item_flag(project=review_project, user=UserFactory(), item_id=item.pk)
    client = client_for(member_factory(review_project, Role.OWNER).user)
    client.get(f"/projects/{review_project.slug}/review/")

    # when
    response = client.post(
        f"/projects/{review_project.slug}/review/decide/",
        {"item_id": first.pk, "labels": "ham", "note": "fine", "dwell_ms": "1200"},
        headers=HTMX,
    )

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="review-panel"')
    assert f'data-item-id="{second.pk}"' in html
    assert "Saved as <b>ham</b>" in html
    assert GoldLabel.objects.get(item=first).labels == ["ham"]


def test_a_bad_htmx_decision_is_a_422_in_the_flash_area(
    review_project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given
    item = ItemFactory(project=review_project)
    client = client_for(member_factory(review_project, Role.OWNER).user)

    # when
    response = client.post(
        f"/projects/{review_project.slug}/review/decide/", {"item_id": item.pk}, headers=HTMX
    )

    # then
    assert response.status_code == 422
    assert response["HX-Retarget"] == "#flash"
    assert "Choose at least one label." in response.content.decode()
    assert not GoldLabel.objects.exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "review/"),
        ("post", "review/decide/"),
        ("post", "review/refresh/"),
        ("get", "gold/"),
        ("get", "dashboard/"),
    ],
)
def test_an_analyst_cannot_reach_review_or_the_dashboard(
    review_project: Project,
    client_for: Callable[..., Client],
    member_factory: Callable[..., Membership],
    method: str,
    path: str,
) -> None:
    # given
    item = ItemFactory(project=review_project)
    client = client_for(member_factory(review_project, Role.ANALYST).user)

    # when
    response = getattr(client, method)(
        f"/projects/{review_project.slug}/{path}", {"item_id": item.pk, "labels": "spam"}
    )

    # then
    assert response.status_code == 403
    assert not GoldLabel.objects.exists()


def test_the_analyst_sees_the_reviewers_feedback_on_their_answers(
    review_project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given
    analyst = member_factory(review_project, Role.ANALYST).user
    item = ItemFactory(project=review_project, external_id="msg-9")
    AnnotationFactory(item=item, annotator=analyst, labels=["ham"])
    review_decide(
        project=review_project,
        reviewer=UserFactory(),
        item_id=item.pk,
        labels=["spam"],
        note="It sells pills",
    )

    # when
    response = client_for(analyst).get(f"/projects/{review_project.slug}/feedback/")

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "msg-9" in html
    assert "It sells pills" in html
    assert "A reviewer agreed with <b>0</b> of your <b>1</b> reviewed answer." in html


def test_the_owner_adds_known_answers_on_the_gold_page_and_a_bad_line_is_named(
    project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given
    ItemFactory(project=project, external_id="m1")
    client = client_for(member_factory(project, Role.OWNER).user)

    # when
    bad = client.post(
        f"/projects/{project.slug}/gold/",
        {"answers": "external_id,label\nm1,spam\nm9,ham\n", "is_check": "on"},
    )
    good = client.post(
        f"/projects/{project.slug}/gold/", {"answers": "external_id,label\nm1,spam\n", "is_check": "on"}
    )
    page = client.get(f"/projects/{project.slug}/gold/")

    # then
    assert bad.status_code == 422
    assert "Line 3: no item with the external id &#x27;m9&#x27;." in bad.content.decode()
    assert good.status_code == 302
    assert "m1" in page.content.decode()
    assert GoldLabel.objects.get().is_check is True


def test_the_owner_sends_a_members_labels_to_review_from_the_members_page(
    review_project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given
    analyst = member_factory(review_project, Role.ANALYST)
    AnnotationFactory(item=ItemFactory(project=review_project), annotator=analyst.user)
    client = client_for(member_factory(review_project, Role.OWNER).user)

    # when
    response = client.post(
        f"/projects/{review_project.slug}/members/{analyst.user_id}/review-all/", {"enabled": "1"}
    )

    # then
    assert response.status_code == 302
    analyst.refresh_from_db()
    assert analyst.review_all_labels is True
    assert ReviewRequest.objects.filter(project=review_project).count() == 1
