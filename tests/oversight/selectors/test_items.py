"""The item browser's answer filters read the answer summaries and list exactly what the aggregation of every
answer listed before them (tests/oversight/item_filters_oracle.py), on SQLite; the label filter's shape."""

from __future__ import annotations

import pytest

from oversight.selectors.items import item_browser_list, labelled_as
from projects.choices import ProjectKind
from tests.oversight.item_filters_oracle import listed_before, listed_now, mixed_project, queries

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kind", [ProjectKind.SINGLE, ProjectKind.SPANS])
def test_the_answer_filters_list_what_the_aggregation_of_every_answer_listed(kind: str) -> None:
    # given a project whose items got agreeing, disagreeing, changed and undone answers through the services
    access, _ = mixed_project(kind)

    # when each answer filter and sort lists the items
    now = {str(data): listed_now(access, data) for data in queries(kind)}

    # then in the same order and number as before the summaries
    assert now == {str(data): listed_before(access, data) for data in queries(kind)}
    assert any(ids for ids, _ in now.values())


def test_the_label_filter_reads_one_set_of_ids_not_an_or_of_two() -> None:
    # given a project with answers and gold labels
    access, _ = mixed_project(ProjectKind.SINGLE)

    # when the browser filters by a label
    sql = str(
        item_browser_list(project=access.project).filter(labelled_as("spam", project=access.project)).query
    )

    # then gold and answers are one set of ids (a UNION), which PostgreSQL estimates from its parts: an OR of
    # two sets was taken to keep most items, and with another filter beside it the planner walked every item
    assert sql.count(" IN (") == 1
    assert " UNION " in sql
    assert " OR " not in sql
