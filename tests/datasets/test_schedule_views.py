"""The export schedule pages: wiring, error mapping (422), permissions. Behaviour lives in the service tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django_celery_beat.models import PeriodicTask

from datasets import tasks
from datasets.choices import SnapshotStatus
from datasets.models import ExportSchedule
from datasets.services import schedules
from datasets.services.schedules import export_schedule_create, export_schedule_run, export_schedule_update
from datasets.services.snapshots import SnapshotRequest
from projects.choices import Role
from projects.models import Membership, Project
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
Members = Callable[..., Membership]
Clients = Callable[..., Client]


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _url(project: Project, schedule: ExportSchedule | None = None, suffix: str = "") -> str:
    base = f"/projects/{project.slug}/datasets/schedules/"
    return f"{base}{schedule.pk}/{suffix}" if schedule else base


def _schedule(project: Project, name: str = "nightly", **overrides: Any) -> ExportSchedule:
    fields: dict[str, Any] = {
        "project": project, "user": None, "name": name, "request": SnapshotRequest(formats=["jsonl", "csv"]),
        "every": 1, "period": "days", "crontab": "", "keep_last": 5,
    }  # fmt: skip
    return export_schedule_create(**{**fields, **overrides})


def _form(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "hourly", "policy": "gold", "min_confidence": "0.8", "formats": ["parquet", "jsonl"],
        "every": "6", "period": "hours", "crontab": "", "keep_last": "3", **overrides,
    }  # fmt: skip


def _labeled(project: Project, n: int) -> None:
    for index in range(n):
        item = ItemFactory(project=project)
        AnnotationFactory(item=item, labels=["spam" if index % 2 else "ham"])
        AnnotationFactory(item=item, labels=["spam" if index % 2 else "ham"])


def test_the_page_lists_schedules_with_cadence_last_run_snapshots_and_a_failure_shown_prominently(
    project: Project, member_factory: Members, client_for: Clients
) -> None:
    # given
    _labeled(project, 4)
    good = _schedule(project, "nightly")
    _schedule(project, "hourly", every=6, period="hours")
    export_schedule_run(schedule=good)
    _schedule(project, "weekly", every=None, crontab="0 3 * * 1", keep_last=2)
    ExportSchedule.objects.filter(name="weekly").update(last_status="failed", last_error="<b>disk full</b>")
    owner = member_factory(project, Role.OWNER).user

    # when
    response = client_for(owner).get(_url(project))

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "every day" in html
    assert "every 6 hours" in html
    assert "<code>0 3 * * 1</code> (UTC)" in html
    assert "as jsonl, csv" in html
    assert "the last 2 versions" in html
    assert f'href="/projects/{project.slug}/datasets/v1/"' in html
    assert f'href="/projects/{project.slug}/datasets/"' in html
    assert 'class="alert schedule-failed" role="alert"' in html
    assert "&lt;b&gt;disk full&lt;/b&gt;" in html
    assert "<b>disk full" not in html
    assert html.count('class="alert schedule-failed"') == 1
    assert "New schedule" in html
    assert "Run now" in html


def test_a_reviewer_sees_the_schedules_but_cannot_create_or_change_them(
    project: Project, member_factory: Members, client_for: Clients
) -> None:
    # given
    schedule = _schedule(project)
    client = client_for(member_factory(project, Role.REVIEWER).user)

    # when
    page = client.get(_url(project))
    created = client.post(_url(project), _form())
    disabled = client.post(_url(project, schedule), {"action": "disable"})
    run = client.post(_url(project, schedule, "run/"))

    # then
    assert page.status_code == 200
    assert "nightly" in page.content.decode()
    assert "New schedule" not in page.content.decode()
    assert "Run now" not in page.content.decode()
    assert (created.status_code, disabled.status_code, run.status_code) == (403, 403, 403)
    assert list(ExportSchedule.objects.values_list("name", "enabled")) == [("nightly", True)]


@pytest.mark.parametrize(("role", "status"), [(Role.ANALYST, 403), (None, 404)])
def test_analysts_get_403_and_non_members_404(
    project: Project, member_factory: Members, client_for: Clients, role: str | None, status: int
) -> None:
    # given
    user = member_factory(project, role).user if role else UserFactory()

    # when
    response = client_for(user).get(_url(project))
    created = client_for(user).post(_url(project), _form())

    # then
    assert (response.status_code, created.status_code) == (status, status)
    assert not ExportSchedule.objects.exists()


@pytest.mark.parametrize("role", [Role.OWNER, Role.DATA_SCIENTIST])
def test_owners_and_data_scientists_create_a_schedule_over_htmx(
    project: Project, member_factory: Members, client_for: Clients, role: str
) -> None:
    # given
    user = member_factory(project, role).user

    # when
    response = client_for(user).post(_url(project), _form(), headers=HTMX)

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="schedules"')
    assert "Scheduled &#x27;hourly&#x27;." in html
    schedule = ExportSchedule.objects.get()
    assert (schedule.name, schedule.every, schedule.period, schedule.keep_last) == ("hourly", 6, "hours", 3)
    assert (schedule.formats, schedule.created_by) == (["parquet", "jsonl"], user)
    assert PeriodicTask.objects.get().name == f"oversight:export:{schedule.pk}"


def test_a_plain_post_redirects_back_to_the_page(
    project: Project, member_factory: Members, client_for: Clients
) -> None:
    # when
    response = client_for(member_factory(project, Role.OWNER).user).post(
        _url(project), _form(every="", crontab="0 3 * * *")
    )

    # then
    assert (response.status_code, response["Location"]) == (302, _url(project))
    assert ExportSchedule.objects.get().crontab == "0 3 * * *"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"crontab": "0 3 * * *"}, schedules.ERROR_CADENCE_BOTH),
        ({"every": "", "crontab": ""}, schedules.ERROR_CADENCE_NONE),
        ({"every": "", "crontab": "0 25 * * *"}, "The crontab&#x27;s hour field &#x27;25&#x27; is not valid"),
        ({"keep_last": "0"}, schedules.ERROR_KEEP_LAST),
        ({"name": "nightly"}, "This project already has an export schedule named &#x27;nightly&#x27;."),
    ],
)
def test_a_bad_create_form_is_a_422_with_the_message_and_nothing_is_created(
    project: Project, member_factory: Members, client_for: Clients, overrides: dict[str, Any], message: str
) -> None:
    # given
    _schedule(project, "nightly")
    client = client_for(member_factory(project, Role.OWNER).user)

    # when
    response = client.post(_url(project), _form(**overrides), headers=HTMX)

    # then
    assert response.status_code == 422
    assert message.replace("'", "&#x27;") in response.content.decode()
    assert list(ExportSchedule.objects.values_list("name", flat=True)) == ["nightly"]
    assert PeriodicTask.objects.count() == 1


def test_disabling_enabling_and_deleting_a_schedule(
    project: Project, member_factory: Members, client_for: Clients
) -> None:
    # given
    schedule = _schedule(project)
    client = client_for(member_factory(project, Role.DATA_SCIENTIST).user)

    # when
    disabled = client.post(_url(project, schedule), {"action": "disable"}, headers=HTMX)
    task_enabled_after_disable = PeriodicTask.objects.get().enabled
    enabled = client.post(_url(project, schedule), {"action": "enable"}, headers=HTMX)
    task_enabled_after_enable = PeriodicTask.objects.get().enabled
    deleted = client.post(_url(project, schedule), {"action": "delete"}, headers=HTMX)

    # then
    assert (disabled.status_code, enabled.status_code, deleted.status_code) == (200, 200, 200)
    assert "disabled</span>" in disabled.content.decode()
    assert (task_enabled_after_disable, task_enabled_after_enable) == (False, True)
    assert "the snapshots it made stay" in deleted.content.decode()
    assert not ExportSchedule.objects.exists()
    assert not PeriodicTask.objects.exists()


def test_editing_a_schedule_saves_it_and_a_bad_edit_is_a_422_with_the_form_open(
    project: Project, member_factory: Members, client_for: Clients
) -> None:
    # given
    schedule = _schedule(project)
    client = client_for(member_factory(project, Role.OWNER).user)

    # when
    bad = client.post(
        _url(project, schedule), {"action": "edit", **_form(every="", crontab="0 3 * 13 *")}, headers=HTMX
    )
    good = client.post(
        _url(project, schedule), {"action": "edit", **_form(name="renamed", every="", crontab="0 3 * * *")}
    )

    # then
    assert bad.status_code == 422
    html = bad.content.decode()
    assert "The crontab&#x27;s month field &#x27;13&#x27; is not valid (1-12)" in html
    assert "<details open" in html
    assert good.status_code == 302
    schedule.refresh_from_db()
    assert (schedule.name, schedule.every, schedule.crontab) == ("renamed", None, "0 3 * * *")
    assert PeriodicTask.objects.get().crontab.hour == "3"


def test_an_unknown_action_is_a_400(project: Project, member_factory: Members, client_for: Clients) -> None:
    # given
    schedule = _schedule(project)

    # when
    response = client_for(member_factory(project, Role.OWNER).user).post(
        _url(project, schedule), {"action": "explode"}
    )

    # then
    assert response.status_code == 400
    assert ExportSchedule.objects.filter(pk=schedule.pk).exists()


def test_run_now_queues_the_schedule_and_refuses_a_disabled_one(
    project: Project,
    member_factory: Members,
    client_for: Clients,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given
    active = _schedule(project, "active")
    paused = _schedule(project, "paused")
    export_schedule_update(schedule=paused, enabled=False)
    queued: list[int] = []
    monkeypatch.setattr(tasks.export_schedule_run_task, "delay", queued.append)
    client = client_for(member_factory(project, Role.OWNER).user)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        ran = client.post(_url(project, active, "run/"), headers=HTMX)
        refused = client.post(_url(project, paused, "run/"), headers=HTMX)

    # then
    assert ran.status_code == 200
    assert "Queued a run of &#x27;active&#x27;" in ran.content.decode()
    assert refused.status_code == 422
    assert schedules.ERROR_DISABLED in refused.content.decode()
    assert queued == [active.pk]
    assert ExportSchedule.objects.get(pk=active.pk).last_status == SnapshotStatus.PENDING


def test_a_schedule_of_another_project_is_a_404(
    project: Project, member_factory: Members, client_for: Clients
) -> None:
    # given
    other = _schedule(ProjectFactory())
    client = client_for(member_factory(project, Role.OWNER).user)

    # when
    updated = client.post(_url(project, other), {"action": "delete"})
    run = client.post(_url(project, other, "run/"))

    # then
    assert (updated.status_code, run.status_code) == (404, 404)
    assert ExportSchedule.objects.filter(pk=other.pk).exists()


def test_the_page_reads_a_fixed_number_of_queries_however_many_schedules(
    project: Project, member_factory: Members, client_for: Clients, django_assert_num_queries: Any
) -> None:
    # given
    _labeled(project, 2)
    for name in ("a", "b", "c"):
        export_schedule_run(schedule=_schedule(project, name))
    client = client_for(member_factory(project, Role.OWNER).user)

    # when / then: session, user, project, role, schedules, their newest snapshots (one query for all)
    with django_assert_num_queries(5):
        response = client.get(_url(project))
    assert response.status_code == 200
    html = response.content.decode()
    # each schedule compares with its own latest snapshot: three first runs, three versions
    assert [html.count(f"<b>v{n}</b>") for n in (1, 2, 3)] == [1, 1, 1]
    assert html.count("Skipped (nothing changed)") == 0


def test_a_schedule_made_in_the_page_may_leave_out_suspected_label_errors(
    project: Project, member_factory: Members, client_for: Clients
) -> None:
    # given
    client = client_for(member_factory(project, Role.OWNER).user)

    # when
    response = client.post(_url(project), _form(exclude_label_errors="on"), headers=HTMX)
    page = client.get(_url(project))

    # then
    assert response.status_code == 200
    assert ExportSchedule.objects.get().exclude_label_errors is True
    assert "leaving out suspected label errors" in page.content.decode()
