"""Blind labeling, door by door: an analyst never sees another person's answer, the label or end model's, LF
votes or another analyst's name, on any page or endpoint; the pages whose tab is hidden from a role answer it
403; reviewers, data scientists and owners still see everything.

`DOORS` classifies every project route of the site (walked from the URL resolver, so a new route fails
`test_every_project_route_is_classified` until someone decides what an analyst gets there).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from labeling.choices import AnnotationSource, EventType, GoldSource
from labeling.models import Annotation, Flag, InteractionEvent, Rationale
from projects.choices import Role
from projects.models import Item, Membership, Project
from tests.labeling.factories import AnnotationFactory, GoldLabelFactory
from tests.projects.factories import ItemFactory
from tests.weak_supervision.factories import keyword_lf

HTMX = {"HX-Request": "true"}

# What an analyst gets on a GET of each project route: "own" is a 200 that shows only her own work (or
# nothing anyone answered), 403 a page or endpoint whose tab is hidden from her, 405 a route that only takes
# POST (a labeling action of hers, or one her role may not take: tested in test_analysts_may_not_post_...).
DOORS: dict[str, int | str] = {
    # labeling (HTML)
    "labeling:project-detail": "own",
    "projects:project-settings": 403,
    "oversight:project-dashboard": 403,
    "labeling:label": "own",
    "labeling:label-submit": 405,
    "labeling:label-skip": 405,
    "labeling:label-undo": 405,
    "labeling:label-flag": 405,
    "labeling:label-skips-reset": 405,
    "oversight:review": 403,
    "oversight:review-decide": 405,
    "oversight:review-pass": 405,
    "oversight:review-refresh": 405,
    "oversight:review-item": 403,
    "oversight:gold-list": 403,
    "oversight:feedback": "own",
    "oversight:member-review-all": 405,
    "oversight:inference": 403,
    "oversight:inference-start": 405,
    "oversight:label-errors": 403,
    "oversight:label-errors-start": 405,
    "oversight:item-list": "own",
    "oversight:item-bulk": 405,
    "oversight:item-detail": "own",
    "imports:import-list": 403,
    "imports:import-detail": 403,
    "projects:member-list": "own",
    "projects:member-update": 403,
    "projects:member-account-create": 403,
    "projects:member-set-password-link": 403,
    "projects:member-lockout-lift": 403,
    "projects:label-add": 403,
    "projects:label-edit": 403,
    "projects:label-retire": 403,
    "projects:label-merge": 403,
    # labeling (API)
    "projects-api:project-detail": "own",
    "projects-api:member-list": "own",
    "projects-api:member-detail": 405,
    "projects-api:label-list": "own",
    "projects-api:label-history": "own",
    "projects-api:label-detail": 405,
    "projects-api:label-merge": 405,
    "oversight-api:item-list": "own",
    "oversight-api:item-review": 405,
    "oversight-api:item-gold-checks": 405,
    "oversight-api:item-delete": 405,
    "labeling-api:item-detail": "own",
    "imports-api:import-list": 403,
    "imports-api:import-detail": 403,
    "labeling-api:queue-next": "own",
    "labeling-api:queue-skip": 405,
    "labeling-api:queue-undo": 405,
    "labeling-api:annotation-submit": 405,
    "labeling-api:flag-create": 405,
    "labeling-api:event-list": "own",
    "labeling-api:event-export": "own",
    "labeling-api:analyst-list": "own",
    "oversight-api:agreement": 403,
    "oversight-api:annotator-list": "own",
    "oversight-api:annotator-export": 403,
    "oversight-api:review-next": 403,
    "oversight-api:review-decide": 405,
    "oversight-api:review-pass": 405,
    "oversight-api:review-refresh": 405,
    "oversight-api:review-request-list": 403,
    "oversight-api:review-item": 403,
    "oversight-api:gold-list": 403,
    "oversight-api:member-review-all": 405,
    "oversight-api:feedback": "own",
    "oversight-api:inference-list": 403,
    "oversight-api:inference-start": 405,
    "oversight-api:inference-items": 403,
    "oversight-api:inference-detail": 403,
    "oversight-api:label-error-list": 403,
    "oversight-api:label-error-scans": 403,
    "oversight-api:label-error-start": 405,
    "oversight-api:label-error-scan": 403,
    # weak supervision
    "weak_supervision:lf-list": 403,
    "weak_supervision:lf-new": 403,
    "weak_supervision:lf-preview": 405,
    "weak_supervision:lf-suggestions": 403,
    "weak_supervision:lf-suggestion-accept": 405,
    "weak_supervision:lf-detail": 403,
    "weak_supervision:lf-toggle": 405,
    "weak_supervision:run-list": 403,
    "weak_supervision:run-detail": 403,
    "weak-supervision-api:lf-list": 403,
    "weak-supervision-api:lf-preview": 405,
    "weak-supervision-api:lf-external-votes": 405,
    "weak-supervision-api:lf-suggestions": 403,
    "weak-supervision-api:lf-suggestion-accept": 405,
    "weak-supervision-api:lf-detail": 403,
    "weak-supervision-api:lf-versions": 403,
    "weak-supervision-api:run-list": 403,
    "weak-supervision-api:run-detail": 403,
    # active learning
    "active_learning:learner": 403,
    "active_learning:settings": 405,
    "active_learning:retrain": 405,
    "active_learning:model-row": 403,
    "active_learning:simulation-create": 405,
    "active_learning:simulation-row": 403,
    "active-learning-api:settings": 403,
    "active-learning-api:model-list": 403,
    "active-learning-api:model-detail": 403,
    "active-learning-api:retrain": 405,
    "active-learning-api:curve": 403,
    "active-learning-api:simulation-list": 403,
    "active-learning-api:simulation-detail": 403,
    # datasets
    "datasets:snapshot-list": 403,
    "datasets:snapshot-detail": 403,
    "datasets:snapshot-download": 403,
    "datasets:snapshot-diff": 403,
    "datasets:snapshot-status": 403,
    "datasets:schedule-list": 403,
    "datasets:schedule-update": 403,
    "datasets:schedule-run": 403,
    "datasets-api:snapshot-list": 403,
    "datasets-api:snapshot-detail": 403,
    "datasets-api:snapshot-file": 403,
    "datasets-api:snapshot-diff": 403,
    "datasets-api:snapshot-job": 403,
    "datasets-api:schedule-list": 403,
    "datasets-api:schedule-detail": 403,
    "datasets-api:schedule-run": 405,
}

OTHER_ANALYST = "zed_other_analyst"
# Strings that only the other people's work carries: none may reach the analyst, on any door.
SECRETS = (
    OTHER_ANALYST,
    "SECRET-FLAG-COMMENT",
    "SECRET-EXTERNAL-ANNOTATOR",
    "SECRET-EVENT-PAYLOAD",
    "SECRET-GOLD-NOTE",
    "secret_lf_rule",
    'id="weak-label"',
    "Label model (run",
    "end_model",
)


def _project_routes() -> Iterator[tuple[str, str]]:
    """(namespace:name, route) of every URL pattern that takes a project slug."""

    def walk(patterns: list[Any], prefix: str, namespace: str) -> Iterator[tuple[str, str]]:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace or namespace
                yield from walk(pattern.url_patterns, route, inner)
            elif isinstance(pattern, URLPattern) and "<slug:slug>" in route:
                yield f"{namespace}:{pattern.name}", route

    yield from walk(get_resolver().url_patterns, "", "")


@dataclass(frozen=True)
class World:
    project: Project
    analyst: Any
    other: Any
    reviewer: Any
    data_scientist: Any
    owner: Any
    answered: Item  # answered by the analyst and the other analyst, then adjudicated
    fresh: Item  # answered by the other analyst and imported, gold-labeled, flagged; not by the analyst


@pytest.fixture
def world(
    db: None, member_factory: Callable[..., Membership], client_for: Callable[..., Client],
    django_capture_on_commit_callbacks: Any, settings: Any, tmp_path: Path,
) -> World:  # fmt: skip
    """A project where others answered, flagged, adjudicated and ran the label model; the analyst answered
    one item (`answered`) and not the other (`fresh`)."""
    # Its own media folder: ids repeat across rolled-back tests, and so would the run's file names.
    settings.MEDIA_ROOT = tmp_path / "media"
    project = Project.objects.create(name="Blind", slug="blind")
    for index, key in enumerate(["ham", "spam"]):
        project.labels.create(key=key, name=key.title(), hotkey=str(index + 1), order=index)
    analyst = member_factory(project, Role.ANALYST, username="alice_analyst").user
    other = member_factory(project, Role.ANALYST, username=OTHER_ANALYST).user
    reviewer = member_factory(project, Role.REVIEWER, username="rita_reviewer").user
    data_scientist = member_factory(project, Role.DATA_SCIENTIST, username="dan_scientist").user
    owner = member_factory(project, Role.OWNER, username="olga_owner").user
    items = [ItemFactory(project=project, text="free prize now" if n % 2 else "home soon") for n in range(6)]
    answered, fresh = items[0], items[1]
    AnnotationFactory(item=answered, annotator=analyst, labels=["ham"], lead_time_ms=900)
    theirs = AnnotationFactory(item=answered, annotator=other, labels=["spam"])
    Rationale.objects.create(project=project, annotation=theirs, item=answered, start=0, end=4, quote="home")
    AnnotationFactory(item=fresh, annotator=other, labels=["spam"])
    AnnotationFactory(item=fresh, annotator=None, external_annotator="SECRET-EXTERNAL-ANNOTATOR",
                      source=AnnotationSource.IMPORT, labels=["spam"])  # fmt: skip
    Flag.objects.create(project=project, item=fresh, user=other, comment="SECRET-FLAG-COMMENT")
    InteractionEvent.objects.create(
        project=project, item=fresh, user=other, type=EventType.VIEW, payload={"note": "SECRET-EVENT-PAYLOAD"}
    )
    InteractionEvent.objects.create(project=project, item=answered, user=analyst, type=EventType.SUBMIT,
                                    payload={"labels": ["ham"], "input_method": "hotkey"})  # fmt: skip
    GoldLabelFactory(item=fresh, labels=["spam"], source=GoldSource.ADJUDICATED, decided_by=reviewer,
                     note="SECRET-GOLD-NOTE", is_check=False)  # fmt: skip
    GoldLabelFactory(item=answered, labels=["spam"], source=GoldSource.ADJUDICATED, decided_by=reviewer,
                     note="Spam: it offers a prize.", is_check=False)  # fmt: skip
    keyword_lf(project, "secret_lf_rule", "spam", "free", "prize")
    keyword_lf(project, "home_rule", "ham", "home")
    keyword_lf(project, "soon_rule", "ham", "soon")
    with django_capture_on_commit_callbacks(execute=True):
        started = client_for(owner).post(f"/projects/{project.slug}/runs/", {}, headers=HTMX)
    assert started.status_code == 200, started.content[:300]
    return World(project, analyst, other, reviewer, data_scientist, owner, answered, fresh)


def _url(route: str, world: World) -> str:
    """The route with the world's objects in it (ids that do not exist where the role check comes first)."""
    values = {
        "slug": world.project.slug, "item_id": world.fresh.pk, "user_id": world.other.pk, "job_id": 1,
        "lf_id": world.project.labeling_functions.get(name="secret_lf_rule").pk, "number": 1,
        "simulation_id": 1, "version": 1, "snapshot_id": 1, "schedule_id": 1, "name": "data.csv", "fmt": "csv",
        "key": "ham",
    }  # fmt: skip
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda match: str(values[match.group(1)]), route)
    return "/" + path.lstrip("^").replace("\\Z", "")


def _leaks(body: str) -> list[str]:
    return [secret for secret in SECRETS if secret in body]


def test_every_project_route_is_classified() -> None:
    # given every route of the site that takes a project
    routes = dict(_project_routes())

    # then each has a decided answer for analysts, and no classified route has gone
    assert sorted(set(routes) - set(DOORS)) == []
    assert sorted(set(DOORS) - set(routes)) == []


@pytest.mark.parametrize("name", sorted(DOORS))
def test_what_an_analyst_gets_at_each_door(
    name: str, world: World, client_for: Callable[..., Client], api_client_for: Callable[..., APIClient]
) -> None:
    # given the analyst, as a browser or as an API client
    route = dict(_project_routes())[name]
    client: Client | APIClient = (
        api_client_for(world.analyst) if "-api:" in name else client_for(world.analyst)
    )

    # when
    response = client.get(_url(route, world))

    # then
    expected = DOORS[name]
    assert response.status_code == (200 if expected == "own" else expected)
    body = b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]
    assert _leaks(body.decode()) == []


@pytest.mark.parametrize(
    ("path", "data"),
    [
        (
            "/projects/{slug}/labeling-functions/preview/",
            {"kind": "keyword", "label": "spam", "keywords": "x"},
        ),
        ("/projects/{slug}/runs/", {}),
        ("/projects/{slug}/review/decide/", {"item_id": 1, "labels": ["spam"]}),
        ("/projects/{slug}/review/refresh/", {}),
        ("/projects/{slug}/active-learning/retrain/", {}),
        ("/projects/{slug}/active-learning/settings/", {"show_suggestions": "on"}),
        (
            "/api/projects/{slug}/labeling-functions/preview/",
            {"kind": "keyword", "label": "spam", "spec": {}},
        ),
        ("/api/projects/{slug}/labeling-functions/", {"name": "x", "kind": "keyword", "label": "spam"}),
        ("/api/projects/{slug}/runs/", {}),
        ("/api/projects/{slug}/review/decisions/", {"item_id": 1, "labels": ["spam"]}),
        ("/api/projects/{slug}/review/requests/", {"item_id": 1}),
        ("/api/projects/{slug}/active-learning/retrain/", {}),
        ("/projects/{slug}/inference/runs/", {}),
        ("/projects/{slug}/label-errors/scans/", {}),
        ("/api/projects/{slug}/inference/runs/", {}),
        ("/api/projects/{slug}/label-errors/scans/start/", {}),
    ],
)
def test_analysts_may_not_post_to_hidden_doors(
    path: str, data: dict[str, Any], world: World, client_for: Callable[..., Client],
    api_client_for: Callable[..., APIClient],
) -> None:  # fmt: skip
    # given
    url = path.format(slug=world.project.slug)
    client: Client | APIClient = (
        api_client_for(world.analyst) if url.startswith("/api/") else client_for(world.analyst)
    )
    runs = world.project.label_model_runs.count()

    # when
    response = (
        client.post(url, data, format="json") if isinstance(client, APIClient) else client.post(url, data)
    )

    # then nothing is shown and nothing changed
    assert response.status_code == 403
    assert _leaks(response.content.decode()) == []
    assert world.project.label_model_runs.count() == runs
    assert world.project.labeling_functions.count() == 3


TABS = {
    "project-dashboard": "/projects/{slug}/dashboard/",
    "inference": "/projects/{slug}/inference/",
    "label-errors": "/projects/{slug}/label-errors/",
    "review": "/projects/{slug}/review/",
    "gold-list": "/projects/{slug}/gold/",
    "feedback": "/projects/{slug}/feedback/",
    "item-list": "/projects/{slug}/items/",
    "import-list": "/projects/{slug}/imports/",
    "lf-list": "/projects/{slug}/labeling-functions/",
    "run-list": "/projects/{slug}/runs/",
    "learner": "/projects/{slug}/active-learning/",
    "snapshot-list": "/projects/{slug}/datasets/",
    "member-list": "/projects/{slug}/members/",
    "project-settings": "/projects/{slug}/settings/",
    "label": "/projects/{slug}/label/",
}


@pytest.mark.parametrize("role", [Role.ANALYST, Role.REVIEWER, Role.DATA_SCIENTIST, Role.OWNER])
def test_a_page_whose_tab_is_hidden_from_a_role_answers_it_403(
    role: str, world: World, client_for: Callable[..., Client]
) -> None:
    # given the tabs the project page shows this role
    user = {Role.ANALYST: world.analyst, Role.REVIEWER: world.reviewer, Role.DATA_SCIENTIST: world.data_scientist,
            Role.OWNER: world.owner}[role]  # fmt: skip
    client = client_for(user)
    html = client.get(f"/projects/{world.project.slug}/").content.decode()
    nav = html[html.index('<nav class="tabs">') : html.index("</nav>", html.index('<nav class="tabs">'))]
    shown = set(re.findall(r'href="([^"]+)"', nav))

    # when each tab's page is opened
    statuses = {
        path.format(slug="blind"): client.get(path.format(slug="blind")).status_code for path in TABS.values()
    }

    # then a shown tab opens and a hidden one is refused
    assert {path: status for path, status in statuses.items() if (path in shown) != (status == 200)} == {}
    assert all(status in (200, 403) for status in statuses.values())


def test_the_item_api_shows_an_analyst_only_her_own_answer(
    world: World, api_client_for: Callable[..., APIClient]
) -> None:
    # given
    client = api_client_for(world.analyst)

    # when
    fresh = client.get(f"/api/projects/blind/items/{world.fresh.pk}/").json()
    answered = client.get(f"/api/projects/blind/items/{world.answered.pk}/").json()

    # then before she answers she sees no answer; after, only her own (others' stay hidden)
    assert fresh["annotations"] == []
    assert [(a["annotator"], a["labels"], a["lead_time_ms"]) for a in answered["annotations"]] == [
        ("alice_analyst", ["ham"], 900)
    ]
    assert _leaks(str(fresh) + str(answered)) == []


def test_the_item_page_shows_an_analyst_only_her_own_answer_flags_and_events(
    world: World, client_for: Callable[..., Client]
) -> None:
    # given
    client = client_for(world.analyst)

    # when
    fresh = client.get(f"/projects/blind/items/{world.fresh.pk}/")
    answered = client.get(f"/projects/blind/items/{world.answered.pk}/")

    # then
    assert (list(fresh.context["annotations"]), list(fresh.context["flags"]), list(fresh.context["events"])) == (
        [], [], []
    )  # fmt: skip
    assert fresh.context["weak_label"] is None
    assert 'id="blind-note"' in fresh.content.decode()
    assert [a.annotator.username for a in answered.context["annotations"]] == ["alice_analyst"]
    assert [e.user.username for e in answered.context["events"]] == ["alice_analyst"]
    assert answered.context["weak_label"] is None
    assert _leaks(fresh.content.decode() + answered.content.decode()) == []


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.DATA_SCIENTIST, Role.OWNER])
def test_reviewers_data_scientists_and_owners_still_see_everything_on_an_item(
    role: str, world: World, client_for: Callable[..., Client], api_client_for: Callable[..., APIClient]
) -> None:
    # given
    user = {
        Role.REVIEWER: world.reviewer,
        Role.DATA_SCIENTIST: world.data_scientist,
        Role.OWNER: world.owner,
    }[role]

    # when
    html = client_for(user).get(f"/projects/blind/items/{world.fresh.pk}/").content.decode()
    data = api_client_for(user).get(f"/api/projects/blind/items/{world.fresh.pk}/").json()

    # then
    assert [secret for secret in SECRETS[:4] if secret not in html] == []
    assert 'id="weak-label"' in html
    assert sorted((a["annotator"] or a["external_annotator"]) for a in data["annotations"]) == [
        "SECRET-EXTERNAL-ANNOTATOR", OTHER_ANALYST
    ]  # fmt: skip


def test_an_analyst_sees_no_other_analyst_among_the_members(
    world: World, client_for: Callable[..., Client], api_client_for: Callable[..., APIClient]
) -> None:
    # when
    listed = api_client_for(world.analyst).get("/api/projects/blind/members/").json()
    page = client_for(world.analyst).get("/projects/blind/members/").content.decode()
    everyone = api_client_for(world.reviewer).get("/api/projects/blind/members/").json()

    # then she sees herself and those she may ask; a reviewer sees everyone
    assert [row["username"] for row in listed] == [
        "alice_analyst",
        "dan_scientist",
        "olga_owner",
        "rita_reviewer",
    ]
    assert OTHER_ANALYST not in page
    assert OTHER_ANALYST in [row["username"] for row in everyone]


def test_an_analyst_reads_only_her_own_events_figures_and_feedback(
    world: World, api_client_for: Callable[..., APIClient]
) -> None:
    # given
    client = api_client_for(world.analyst)

    # when
    events = client.get("/api/projects/blind/events/").json()
    theirs = client.get(f"/api/projects/blind/events/?user={world.other.pk}").json()
    exported = b"".join(client.get("/api/projects/blind/events/export/jsonl/").streaming_content).decode()  # type: ignore[attr-defined]
    analysts = client.get("/api/projects/blind/analysts/").json()
    annotators = client.get("/api/projects/blind/annotators/").json()
    feedback = client.get("/api/projects/blind/feedback/").json()

    # then
    results = events["results"] if isinstance(events, dict) else events
    assert {row["username"] for row in results} == {"alice_analyst"}
    assert (theirs["results"] if isinstance(theirs, dict) else theirs) == []
    assert exported.count("\n") == len(results)
    assert OTHER_ANALYST not in exported
    assert [row["username"] for row in analysts] == ["alice_analyst"]
    assert [row["username"] for row in annotators] == ["alice_analyst"]
    # after she answered and a reviewer decided, she learns the final answer of her own item, nothing else
    assert [(row["item_id"], row["your_labels"], row["final_labels"]) for row in feedback] == [
        (world.answered.pk, ["ham"], ["spam"])
    ]
    assert _leaks(str(events) + str(analysts) + str(annotators) + str(feedback)) == []


def test_the_project_page_counts_only_the_analysts_own_labels(
    world: World, client_for: Callable[..., Client]
) -> None:
    # when
    mine = client_for(world.analyst).get("/projects/blind/").context["stats"]["per_label"]
    everyone = client_for(world.owner).get("/projects/blind/").context["stats"]["per_label"]

    # then
    assert mine == {"ham": 1, "spam": 0}
    assert everyone == {"ham": 1, "spam": 3}


def test_the_labeling_panel_and_queue_show_an_analyst_no_others_work(
    world: World, client_for: Callable[..., Client], api_client_for: Callable[..., APIClient]
) -> None:
    # given the item she is handed is one others answered and flagged
    Item.objects.filter(pk=world.fresh.pk).update(priority=100, remaining=5)

    # when
    page = client_for(world.analyst).get("/projects/blind/label/")
    nxt = api_client_for(world.analyst).get("/api/projects/blind/queue/next/").json()
    submitted = api_client_for(world.analyst).post(
        "/api/projects/blind/annotations/",
        {"item_id": world.fresh.pk, "labels": ["ham"], "client_uuid": str(uuid.uuid4())},
        format="json",
    )

    # then
    assert page.context["current"].item.pk == world.fresh.pk
    assert nxt["item"]["id"] == world.fresh.pk
    assert submitted.status_code == 201
    assert submitted.json()["annotation"]["annotator"] == "alice_analyst"
    assert _leaks(page.content.decode() + str(nxt) + submitted.content.decode()) == []
    assert Annotation.objects.filter(item=world.fresh, annotator=world.analyst).count() == 1


def test_the_labeling_partials_after_an_answer_show_an_analyst_no_others_work(
    world: World, client_for: Callable[..., Client]
) -> None:
    # given the analyst is handed the item others answered, flagged and adjudicated
    Item.objects.filter(pk=world.fresh.pk).update(priority=100, remaining=5)
    client = client_for(world.analyst)
    handed = client.get("/projects/blind/label/", headers=HTMX)
    answer = {"item_id": world.fresh.pk, "labels": "ham", "client_uuid": str(uuid.uuid4())}

    # when she answers, then takes the answer back, in the htmx panel
    submitted = client.post("/projects/blind/label/submit/", answer, headers=HTMX)
    undone = client.post("/projects/blind/label/undo/", {}, headers=HTMX)

    # then each partial shows her own answer at most
    assert f'data-item-id="{world.fresh.pk}"' in handed.content.decode()
    assert (submitted.status_code, undone.status_code) == (200, 200)
    assert "you had answered <b>ham</b>" in undone.content.decode()
    assert _leaks(handed.content.decode() + submitted.content.decode() + undone.content.decode()) == []


def test_owners_set_whether_analysts_see_suggestions_over_the_api(
    world: World, api_client_for: Callable[..., APIClient]
) -> None:
    # when
    denied = api_client_for(world.analyst).patch("/api/projects/blind/", {"analysts_see_suggestions": False})
    before = api_client_for(world.analyst).get("/api/projects/blind/").json()["analysts_see_suggestions"]
    changed = api_client_for(world.owner).patch("/api/projects/blind/", {"analysts_see_suggestions": False})

    # then
    assert (denied.status_code, before) == (403, True)
    assert (changed.status_code, changed.json()["analysts_see_suggestions"]) == (200, False)
    world.project.refresh_from_db()
    assert world.project.analysts_see_suggestions is False
