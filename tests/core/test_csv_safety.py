"""Formula cells in every CSV download: the helper, then the event and annotator exports over the API."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from core.csv_safety import csv_cell_safe, csv_cells_safe, csv_row_safe
from projects.choices import Role
from projects.models import Membership, Project
from tests.projects.factories import ItemFactory


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("plain = text", "plain = text"),
        ("a-b", "a-b"),
        ("", ""),
        ("'quoted", "'quoted"),
    ],
)
def test_cells_a_spreadsheet_would_run_get_an_apostrophe(value: str, expected: str) -> None:
    # when / then
    assert csv_cell_safe(value) == expected
    assert csv_cells_safe([value, "ok"]) == [expected, "ok"]


def test_a_row_keeps_its_numbers_and_empty_values() -> None:
    # given
    row = {"name": "=1+1", "count": -3, "share": -0.5, "missing": None, "flag": True}

    # when / then
    assert csv_row_safe(row) == {"name": "'=1+1", "count": -3, "share": -0.5, "missing": None, "flag": True}


def _download(response: object) -> list[dict[str, str]]:
    content = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    return list(csv.DictReader(io.StringIO(content)))


@pytest.mark.django_db
def test_the_event_and_annotator_csv_downloads_neutralise_usernames(
    project: Project, member_factory: Callable[..., Membership], api_client_for: Callable[..., APIClient]
) -> None:
    # given an analyst whose username a spreadsheet would read as a formula (Django allows @, + and -)
    item = ItemFactory(project=project)
    analyst = member_factory(project, Role.ANALYST, username="@SUM(1+1)").user
    owner = member_factory(project, Role.OWNER, username="olga").user
    base = f"/api/projects/{project.slug}"
    assert (
        api_client_for(analyst).post(f"{base}/queue/skip/", {"item_id": item.pk}, format="json").status_code
        == 204
    )

    # when
    events = _download(api_client_for(owner).get(f"{base}/events/export/csv/"))
    annotators = _download(api_client_for(owner).get(f"{base}/annotators/export.csv"))

    # then
    assert [(row["username"], row["item_id"]) for row in events] == [("'@SUM(1+1)", str(item.pk))]
    assert "'@SUM(1+1)" in [row["username"] for row in annotators]
    assert "@SUM(1+1)" not in [row["username"] for row in annotators]
