"""Export schedules over REST: wiring, 400 messages, permissions. Behaviour lives in the service tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django_celery_beat.models import PeriodicTask
from rest_framework.test import APIClient

from datasets.choices import SnapshotStatus, Trigger
from datasets.models import ExportSchedule, Snapshot
from datasets.services import schedules
from datasets.services.schedules import export_schedule_create, export_schedule_run, export_schedule_update
from datasets.services.snapshots import SnapshotRequest
from projects.choices import Role
from projects.models import Membership, Project
from tests.labeling.factories import AnnotationFactory
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db
Api = Callable[[object], APIClient]
Members = Callable[..., Membership]


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _url(project: Project, schedule: ExportSchedule | int | None = None, suffix: str = "") -> str:
    base = f"/api/projects/{project.slug}/export-schedules/"
    if schedule is None:
        return base
    return f"{base}{schedule if isinstance(schedule, int) else schedule.pk}/{suffix}"


def _schedule(project: Project, name: str = "nightly", **overrides: Any) -> ExportSchedule:
    fields: dict[str, Any] = {
        "project": project, "user": None, "name": name, "request": SnapshotRequest(formats=["jsonl"]),
        "every": 1, "period": "days", "crontab": "", "keep_last": 5,
    }  # fmt: skip
    return export_schedule_create(**{**fields, **overrides})


def _labeled(project: Project, n: int) -> None:
    for index in range(n):
        item = ItemFactory(project=project)
        AnnotationFactory(item=item, labels=["spam" if index % 2 else "ham"])
        AnnotationFactory(item=item, labels=["spam" if index % 2 else "ham"])


@pytest.mark.parametrize("role", [Role.OWNER, Role.DATA_SCIENTIST])
def test_owners_and_data_scientists_create_a_schedule(
    project: Project, member_factory: Members, api_client_for: Api, role: str
) -> None:
    # given
    user = member_factory(project, role).user

    # when
    response = api_client_for(user).post(
        _url(project),
        {"name": "nightly", "crontab": "0 3 * * 1-5", "formats": ["jsonl", "parquet"], "keep_last": 4},
        format="json",
    )

    # then
    assert response.status_code == 201
    body = response.json()
    schedule = ExportSchedule.objects.get()
    assert body["id"] == schedule.pk
    assert {key: body[key] for key in ("name", "every", "crontab", "keep_last", "enabled", "formats")} == {
        "name": "nightly", "every": None, "crontab": "0 3 * * 1-5", "keep_last": 4, "enabled": True,
        "formats": ["parquet", "jsonl"],
    }  # fmt: skip
    assert (body["policy"], body["min_confidence"], body["created_by"]) == ("gold", 0.8, user.username)
    assert body["periodic_task"] == f"oversight:export:{schedule.pk}"
    assert (body["last_status"], body["recent_snapshots"]) == ("", [])
    assert PeriodicTask.objects.get().crontab.day_of_week == "1-5"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"every": 2, "crontab": "0 3 * * *"}, schedules.ERROR_CADENCE_BOTH),
        ({}, schedules.ERROR_CADENCE_NONE),
        ({"crontab": "0 3 * * 9"}, "The crontab's day of week field '9' is not valid"),
        (
            {"crontab": "0 3 *"},
            "A crontab has 5 fields, 'minute hour day month weekday' (UTC); this one has 3.",
        ),
        ({"every": 0}, schedules.ERROR_EVERY),
        ({"every": 1, "keep_last": 5000}, schedules.ERROR_KEEP_LAST),
        ({"every": 1, "formats": []}, "Choose at least one format"),
        ({"every": 1, "min_confidence": 2}, "min_confidence must be between 0 and 1."),
        ({"every": 1, "name": "taken"}, "This project already has an export schedule named 'taken'."),
    ],
)
def test_a_bad_schedule_is_a_400_with_the_message_and_nothing_is_created(
    project: Project, member_factory: Members, api_client_for: Api, payload: dict[str, Any], message: str
) -> None:
    # given
    _schedule(project, "taken")
    api = api_client_for(member_factory(project, Role.OWNER).user)

    # when
    response = api.post(_url(project), {"name": "new", **payload}, format="json")

    # then
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert list(ExportSchedule.objects.values_list("name", flat=True)) == ["taken"]
    assert PeriodicTask.objects.count() == 1


def test_an_unknown_format_is_a_400_on_the_field(
    project: Project, member_factory: Members, api_client_for: Api
) -> None:
    # when
    response = api_client_for(member_factory(project, Role.OWNER).user).post(
        _url(project), {"name": "x", "every": 1, "formats": ["xml"]}, format="json"
    )

    # then
    assert response.status_code == 400
    assert response.json() == {"formats": {"0": ['"xml" is not a valid choice.']}}
    assert not ExportSchedule.objects.exists()


def test_a_reviewer_lists_and_reads_schedules_with_their_runs_but_cannot_change_them(
    project: Project, member_factory: Members, api_client_for: Api
) -> None:
    # given
    _labeled(project, 4)
    schedule = _schedule(project)
    export_schedule_run(schedule=schedule)
    export_schedule_run(schedule=schedule)
    api = api_client_for(member_factory(project, Role.REVIEWER).user)

    # when
    listed = api.get(_url(project))
    read = api.get(_url(project, schedule))
    created = api.post(_url(project), {"name": "mine", "every": 1}, format="json")
    patched = api.patch(_url(project, schedule), {"enabled": False}, format="json")
    deleted = api.delete(_url(project, schedule))
    run = api.post(_url(project, schedule, "run/"))

    # then
    assert (listed.status_code, read.status_code) == (200, 200)
    assert [row["name"] for row in listed.json()] == ["nightly"]
    runs = read.json()["recent_snapshots"]
    assert [(row["status"], row["version"]) for row in runs] == [
        (SnapshotStatus.SKIPPED, None), (SnapshotStatus.SUCCEEDED, 1),
    ]  # fmt: skip
    assert read.json()["last_status"] == SnapshotStatus.SKIPPED
    statuses = (created.status_code, patched.status_code, deleted.status_code, run.status_code)
    assert statuses == (403, 403, 403, 403)
    assert list(ExportSchedule.objects.values_list("name", "enabled")) == [("nightly", True)]


@pytest.mark.parametrize(("role", "status"), [(Role.ANALYST, 403), (None, 404)])
def test_analysts_get_403_and_non_members_404(
    project: Project, member_factory: Members, api_client_for: Api, role: str | None, status: int
) -> None:
    # given
    schedule = _schedule(project)
    user = member_factory(project, role).user if role else UserFactory()
    api = api_client_for(user)

    # when
    responses = [
        api.get(_url(project)),
        api.get(_url(project, schedule)),
        api.post(_url(project), {"name": "x", "every": 1}, format="json"),
    ]

    # then
    assert [response.status_code for response in responses] == [status] * 3
    assert ExportSchedule.objects.count() == 1


def test_patch_changes_what_is_given_and_keeps_beat_in_step(
    project: Project, member_factory: Members, api_client_for: Api
) -> None:
    # given
    schedule = _schedule(project, every=2, period="days")
    api = api_client_for(member_factory(project, Role.DATA_SCIENTIST).user)

    # when
    switched = api.patch(_url(project, schedule), {"crontab": "30 1 * * *", "policy": "soft"}, format="json")
    disabled = api.patch(_url(project, schedule), {"enabled": False}, format="json")

    # then
    assert switched.status_code == 200
    body = switched.json()
    assert (body["every"], body["crontab"], body["policy"], body["formats"]) == (
        None, "30 1 * * *", "soft", ["jsonl"],
    )  # fmt: skip
    assert disabled.json()["enabled"] is False
    task = PeriodicTask.objects.get()
    assert (task.interval, task.crontab.minute, task.enabled) == (None, "30", False)


def test_a_bad_patch_is_a_400_and_changes_nothing(
    project: Project, member_factory: Members, api_client_for: Api
) -> None:
    # given
    schedule = _schedule(project, every=2, period="days")
    api = api_client_for(member_factory(project, Role.OWNER).user)

    # when
    response = api.patch(_url(project, schedule), {"every": 3, "crontab": "0 3 * * *"}, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == {"detail": schedules.ERROR_CADENCE_BOTH, "code": "cadence"}
    schedule.refresh_from_db()
    assert (schedule.every, schedule.crontab) == (2, "")


def test_delete_removes_the_schedule_and_its_beat_entry_and_keeps_its_snapshots(
    project: Project, member_factory: Members, api_client_for: Api
) -> None:
    # given
    _labeled(project, 2)
    schedule = _schedule(project)
    snapshot = export_schedule_run(schedule=schedule)

    # when
    response = api_client_for(member_factory(project, Role.OWNER).user).delete(_url(project, schedule))

    # then
    assert response.status_code == 204
    assert not ExportSchedule.objects.exists()
    assert not PeriodicTask.objects.exists()
    assert Snapshot.objects.get().pk == snapshot.pk


def test_run_now_is_a_202_and_the_run_makes_a_scheduled_snapshot(
    project: Project, member_factory: Members, api_client_for: Api, django_capture_on_commit_callbacks: Any
) -> None:
    # given: embedded mode runs the queued task when the request's transaction commits
    _labeled(project, 4)
    schedule = _schedule(project)
    api = api_client_for(member_factory(project, Role.OWNER).user)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(_url(project, schedule, "run/"))

    # then
    assert response.status_code == 202
    assert response.json()["last_status"] == SnapshotStatus.PENDING
    snapshot = Snapshot.objects.get()
    assert (snapshot.status, snapshot.trigger, snapshot.schedule_id) == (
        SnapshotStatus.SUCCEEDED, Trigger.SCHEDULE, schedule.pk,
    )  # fmt: skip
    schedule.refresh_from_db()
    assert schedule.last_status == SnapshotStatus.SUCCEEDED


def test_run_now_of_a_disabled_schedule_is_a_400(
    project: Project, member_factory: Members, api_client_for: Api
) -> None:
    # given
    schedule = _schedule(project)
    export_schedule_update(schedule=schedule, enabled=False)

    # when
    response = api_client_for(member_factory(project, Role.OWNER).user).post(_url(project, schedule, "run/"))

    # then
    assert response.status_code == 400
    assert response.json() == {"detail": schedules.ERROR_DISABLED, "code": "disabled"}
    assert not Snapshot.objects.exists()


def test_a_schedule_of_another_project_is_a_404(
    project: Project, member_factory: Members, api_client_for: Api
) -> None:
    # given
    other = _schedule(ProjectFactory())
    api = api_client_for(member_factory(project, Role.OWNER).user)

    # when
    responses = [
        api.get(_url(project, other)),
        api.patch(_url(project, other), {"enabled": False}, format="json"),
        api.delete(_url(project, other)),
        api.post(_url(project, other, "run/")),
    ]

    # then
    assert [response.status_code for response in responses] == [404] * 4
    assert responses[0].json()["detail"] == "Export schedule not found in this project."
    assert ExportSchedule.objects.get(pk=other.pk).enabled is True


def test_the_schema_documents_the_schedule_endpoints(api_client_for: Api) -> None:
    # when
    response = api_client_for(UserFactory()).get("/api/schema/", {"format": "json"})

    # then
    paths = response.json()["paths"]
    assert set(paths["/api/projects/{slug}/export-schedules/"]) == {"get", "post"}
    assert set(paths["/api/projects/{slug}/export-schedules/{schedule_id}/"]) == {"get", "patch", "delete"}
    assert set(paths["/api/projects/{slug}/export-schedules/{schedule_id}/run/"]) == {"post"}


def test_a_schedule_takes_and_changes_the_option_to_leave_out_suspected_label_errors(
    project: Project, member_factory: Members, api_client_for: Api
) -> None:
    # given
    api = api_client_for(member_factory(project, Role.OWNER).user)
    data = {"name": "clean", "every": 1, "period": "days", "formats": ["jsonl"], "exclude_label_errors": True}

    # when
    created = api.post(_url(project), data, format="json")
    changed = api.patch(_url(project, created.json()["id"]), {"exclude_label_errors": False}, format="json")

    # then
    assert created.status_code == 201
    assert created.json()["exclude_label_errors"] is True
    assert changed.status_code == 200
    assert changed.json()["exclude_label_errors"] is False
    assert ExportSchedule.objects.get().exclude_label_errors is False
