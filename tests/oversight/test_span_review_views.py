"""The reviewer page and the dashboard of a span project: the answers' spans side by side, decisions by accepting
an answer or posting the spans, and the span agreement section (behaviour lives in the service tests)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.test import Client

from labeling.models import GoldLabel
from oversight.choices import ReviewReason
from oversight.models import ReviewRequest
from oversight.templatetags.span_display import span_text
from projects.choices import Role
from projects.models import Label, Membership, Project
from tests.oversight.factories import span_answer, span_project, spans_in
from tests.projects.factories import ItemFactory, UserFactory

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
TEXT = "Ada <b>Lovelace</b> met Babbage in London"


@pytest.fixture
def spans_project() -> Project:
    project = span_project(slug="ner")
    Label.objects.filter(project=project, key="per").update(color="#ff0000")
    return project


def test_the_review_page_shows_each_answers_spans_highlighted_and_escaped(
    spans_project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given
    item = ItemFactory(project=spans_project, text=TEXT)
    ana = span_answer(item, UserFactory(username="ana"), ("Ada <b>Lovelace</b>", "per"))
    span_answer(item, UserFactory(username="bob"), ("London", "loc"))
    ReviewRequest.objects.create(project=spans_project, item=item, reasons=[ReviewReason.DISAGREEMENT])
    reviewer = member_factory(spans_project, Role.REVIEWER).user

    # when
    response = client_for(reviewer).get("/projects/ner/review/")

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "<b>Lovelace" not in html
    assert 'title="per">Ada &lt;b&gt;Lovelace&lt;/b&gt;</mark>' in html
    assert 'data-span-color="#ff0000"' in html
    assert f'name="annotation_id" value="{ana.pk}"' in html
    assert "Accept ana's spans" in html
    assert 'name="spans"' in html
    assert 'name="labels"' not in html


def test_accepting_an_answer_on_the_page_decides_and_shows_the_next_panel(
    spans_project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given
    item = ItemFactory(project=spans_project, text=TEXT)
    answer = span_answer(item, UserFactory(), ("London", "loc"))
    client = client_for(member_factory(spans_project, Role.REVIEWER).user)

    # when: the button pressed sends the answer, beside the (ignored) list in the text area
    response = client.post(
        "/projects/ner/review/decide/",
        {"item_id": item.pk, "annotation_id": answer.pk, "spans": "not json", "dwell_ms": "900"},
        headers=HTMX,
    )

    # then
    assert response.status_code == 200
    assert "Saved as <b>loc</b>" in response.content.decode()
    assert GoldLabel.objects.get(item=item).spans == answer.spans


def test_posting_edited_spans_decides_and_bad_ones_come_back_as_a_422_message(
    spans_project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given
    item = ItemFactory(project=spans_project, text=TEXT)
    client = client_for(member_factory(spans_project, Role.REVIEWER).user)
    good = spans_in(TEXT, ("Babbage", "per"))
    bad = [{"start": 0, "end": 3, "label": "per", "text": "Bob"}]

    # when
    refused = client.post(
        "/projects/ner/review/decide/", {"item_id": item.pk, "spans": json.dumps(bad)}, headers=HTMX
    )
    unreadable = client.post(
        "/projects/ner/review/decide/", {"item_id": item.pk, "spans": "[{"}, headers=HTMX
    )
    stored_before = GoldLabel.objects.filter(item=item).exists()
    accepted = client.post(
        "/projects/ner/review/decide/", {"item_id": item.pk, "spans": json.dumps(good)}, headers=HTMX
    )

    # then
    assert refused.status_code == 422
    assert "is not the text at 0-3" in refused.content.decode()
    assert unreadable.status_code == 422
    assert stored_before is False
    assert accepted.status_code == 200
    assert GoldLabel.objects.get(item=item).spans == good


def test_the_dashboard_shows_span_agreement(
    spans_project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given
    item = ItemFactory(project=spans_project, text=TEXT)
    span_answer(item, UserFactory(username="ana"), ("London", "loc"))
    span_answer(item, UserFactory(username="bob"), ("London", "loc"), ("Babbage", "per"))

    # when
    response = client_for(member_factory(spans_project, Role.OWNER).user).get("/projects/ner/dashboard/")

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="agreement-types"' in html
    assert "span F1, exact match" in html
    assert "ana · bob" in html
    assert "Cohen" not in html


def test_the_agreement_command_prints_the_span_report(
    spans_project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    item = ItemFactory(project=spans_project, text=TEXT)
    span_answer(item, UserFactory(username="ana"), ("London", "loc"))
    span_answer(item, UserFactory(username="bob"), ("London", "loc"))

    # when
    call_command("agreement", "ner")
    text = capsys.readouterr().out
    call_command("agreement", "ner", "--json")
    body = json.loads(capsys.readouterr().out)

    # then
    assert "items answered at least twice, by 2 annotators" in text
    assert "ana  bob  1      1.0000    1.0000" in text
    assert (body["kind"], body["exact_f1"]) == ("spans", 1.0)


def test_span_text_marks_nested_spans_and_refuses_odd_colours() -> None:
    # given: a span inside another; a colour that is not #rrggbb
    text = "New York City"
    spans = [*spans_in(text, ("New York City", "loc")), *spans_in(text, ("York", "org"))]

    # when
    html = span_text(text, spans, {"loc": "#00ff00", "org": "red;x"})

    # then
    assert '<mark class="seg in-span" data-span-color="#00ff00"' in html
    assert 'class="seg in-span nested" data-span-color="#6b7280"' in html
    assert "style=" not in html  # the Content-Security-Policy allows no style attribute
    assert 'title="loc, org">York</mark>' in html
    assert html.count('class="span-tag"') == 2


def test_the_gold_list_shows_the_gold_spans(
    spans_project: Project, client_for: Callable[..., Client], member_factory: Callable[..., Membership]
) -> None:
    # given
    item = ItemFactory(project=spans_project, text=TEXT)
    reviewer = member_factory(spans_project, Role.REVIEWER).user
    client = client_for(reviewer)
    client.post(
        "/projects/ner/review/decide/",
        {"item_id": item.pk, "spans": json.dumps(spans_in(TEXT, ("London", "loc")))},
    )

    # when
    response = client.get("/projects/ner/gold/")

    # then
    assert response.status_code == 200
    assert '<span class="chip" title="35-41">London <code>loc</code></span>' in response.content.decode()
