"""The annotator table over REST: JSON for every member (scoped), CSV for those who oversee."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from labeling.models import GoldLabel
from oversight.choices import SourceKind
from oversight.selectors.quality import ANNOTATOR_QUALITY_COLUMNS
from projects.choices import Role
from projects.models import Membership, Project
from tests.labeling.factories import AnnotationFactory
from tests.oversight.factories import InferenceRunFactory, source_entry
from tests.projects.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

MemberFactory = Callable[..., Membership]


def _project_with_answers(member_factory: MemberFactory) -> tuple[Project, dict[str, Membership]]:
    """ana and bob answer a gold check (spam): ana rightly, bob wrongly; olga owns the project."""
    project = ProjectFactory(slug="sms")
    members = {
        "ana": member_factory(project, Role.ANALYST, username="ana"),
        "bob": member_factory(project, Role.ANALYST, username="bob"),
        "olga": member_factory(project, Role.OWNER, username="olga"),
    }
    item = ItemFactory(project=project)
    GoldLabel.objects.create(project=project, item=item, labels=["spam"], is_check=True)
    AnnotationFactory(item=item, annotator=members["ana"].user, labels=["spam"])
    AnnotationFactory(item=item, annotator=members["bob"].user, labels=["ham"])
    return project, members


def test_the_owner_sees_every_annotator(
    member_factory: MemberFactory, api_client_for: Callable[..., APIClient]
) -> None:
    # given
    project, members = _project_with_answers(member_factory)

    # when
    response = api_client_for(members["olga"].user).get(f"/api/projects/{project.slug}/annotators/")

    # then
    assert response.status_code == 200
    body = response.json()
    assert [row["username"] for row in body] == ["ana", "bob"]
    assert list(body[0]) == ANNOTATOR_QUALITY_COLUMNS
    assert body[1] == {
        "user_id": members["bob"].user.pk, "username": "bob", "role": "analyst", "submitted": 0,
        "items_per_hour": None, "median_seconds": None, "skip_rate": None, "hotkey_share": None,
        "consensus_n": 1, "consensus_agreement": 0.0, "gold_n": 1, "gold_agreement": 0.0,
        "checks_n": 1, "checks_correct": 0, "check_accuracy": 0.0, "check_ci_low": 0.0, "check_ci_high": 0.7935,
        "below_threshold": False, "fast_answers": 0, "fast_share": None, "drift_speed": None,
        "drift_consensus": None, "review_all_labels": False, "inference_run": None, "estimated_accuracy": None,
        "estimated_ci_low": None, "estimated_ci_high": None, "estimated_per_class": [], "estimated_confusions": [],
        "check_span_f1": None,
    }  # fmt: skip


def test_an_analyst_sees_only_their_own_row(
    member_factory: MemberFactory, api_client_for: Callable[..., APIClient]
) -> None:
    # given
    project, members = _project_with_answers(member_factory)

    # when
    response = api_client_for(members["bob"].user).get(f"/api/projects/{project.slug}/annotators/")

    # then
    assert response.status_code == 200
    assert [(row["username"], row["checks_correct"]) for row in response.json()] == [("bob", 0)]


@pytest.mark.parametrize("role", [Role.OWNER, Role.REVIEWER, Role.DATA_SCIENTIST])
def test_the_csv_download_has_every_column_and_annotator(
    role: str, member_factory: MemberFactory, api_client_for: Callable[..., APIClient]
) -> None:
    # given
    project, members = _project_with_answers(member_factory)
    viewer = member_factory(project, role, username="vic").user

    # when
    response = api_client_for(viewer).get(f"/api/projects/{project.slug}/annotators/export.csv")

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"] == 'attachment; filename="annotators-sms.csv"'
    content = b"".join(response.streaming_content).decode()  # type: ignore[arg-type]
    rows = list(csv.DictReader(io.StringIO(content)))
    assert content.splitlines()[0] == ",".join(ANNOTATOR_QUALITY_COLUMNS)
    assert [(row["username"], row["checks_correct"], row["check_accuracy"]) for row in rows] == [
        ("ana", "1", "1.0"),
        ("bob", "0", "0.0"),
    ]
    assert rows[0]["user_id"] == str(members["ana"].user.pk)


def test_an_analyst_may_not_download_the_csv(
    member_factory: MemberFactory, api_client_for: Callable[..., APIClient]
) -> None:
    # given
    project, members = _project_with_answers(member_factory)

    # when
    response = api_client_for(members["ana"].user).get(f"/api/projects/{project.slug}/annotators/export.csv")

    # then
    assert response.status_code == 403
    assert "text/csv" not in response["Content-Type"]


@pytest.mark.parametrize("path", ["annotators/", "annotators/export.csv"])
def test_an_outsider_gets_a_404(
    path: str, member_factory: MemberFactory, api_client_for: Callable[..., APIClient]
) -> None:
    # given
    project, _ = _project_with_answers(member_factory)
    outsider = UserFactory(username="eve")

    # when
    response = api_client_for(outsider).get(f"/api/projects/{project.slug}/{path}")

    # then
    assert response.status_code == 404


def test_each_row_has_truth_inferences_estimate_and_an_analyst_only_their_own(
    member_factory: MemberFactory, api_client_for: Callable[..., APIClient]
) -> None:
    # given the latest inference run estimated ana and bob
    project, members = _project_with_answers(member_factory)
    ana, bob = members["ana"].user.pk, members["bob"].user.pk
    InferenceRunFactory(
        project=project, number=2,
        sources=[
            source_entry(SourceKind.ANNOTATOR, "ana", 0.9, user_id=ana, interval=[0.8, 0.95]),
            source_entry(SourceKind.ANNOTATOR, "bob", 0.6, user_id=bob, interval=[0.45, 0.73]),
        ],
    )  # fmt: skip

    # when
    everyone = api_client_for(members["olga"].user).get(f"/api/projects/{project.slug}/annotators/").json()
    own = api_client_for(members["bob"].user).get(f"/api/projects/{project.slug}/annotators/").json()
    csv_text = b"".join(
        api_client_for(members["olga"].user)
        .get(f"/api/projects/{project.slug}/annotators/export.csv")
        .streaming_content  # type: ignore[attr-defined]
    ).decode()

    # then
    assert [(row["username"], row["check_accuracy"], row["estimated_accuracy"]) for row in everyone] == [
        ("ana", 1.0, 0.9),
        ("bob", 0.0, 0.6),
    ]
    assert (everyone[1]["inference_run"], everyone[1]["estimated_ci_low"], everyone[1]["estimated_ci_high"]) == (
        2, 0.45, 0.73,
    )  # fmt: skip
    assert everyone[1]["estimated_per_class"][1] == {
        "label": "spam", "accuracy": 0.6, "interval": [0.45, 0.73], "items": 5.0,
    }  # fmt: skip
    assert everyone[1]["estimated_confusions"] == [
        {"label": None, "classes": ["ham", "spam"], "rows": [[0.6, 0.4], [0.4, 0.6]]}
    ]
    assert [(row["username"], row["estimated_accuracy"]) for row in own] == [("bob", 0.6)]
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert (rows[1]["estimated_accuracy"], rows[1]["estimated_ci_low"]) == ("0.6", "0.45")
    assert json.loads(rows[1]["estimated_confusions"])[0]["rows"] == [[0.6, 0.4], [0.4, 0.6]]
