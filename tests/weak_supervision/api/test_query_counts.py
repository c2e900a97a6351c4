"""Query-count guards: the weak-supervision API's lists and details run as many queries for 23 rows as for 3."""

from __future__ import annotations

from itertools import count

import pytest
from django.contrib.auth.models import User
from django.db.models import Max

from projects.models import Project
from tests.projects.factories import UserFactory
from tests.query_counts import Case, endpoint_test, listed, results
from weak_supervision.choices import RunStatus
from weak_supervision.models import LabelingFunction, LabelModelRun
from weak_supervision.services.functions import labeling_function_create, labeling_function_update

pytestmark = pytest.mark.django_db
SPECS = count()  # each new version's keyword is new: an unchanged rule saves no version


def _lfs(project: Project, n: int) -> list[LabelingFunction]:
    """n keyword LFs by n users, each edited once (two versions)."""
    start = LabelingFunction.objects.filter(project=project).count()
    made = []
    for index in range(start, start + n):
        user = UserFactory()
        lf = labeling_function_create(
            project=project, user=user, name=f"lf{index:03d}", kind="keyword", label="spam",
            spec={"keywords": [f"word{index}"]},
        )  # fmt: skip
        labeling_function_update(lf=lf, user=user, spec={"keywords": [f"word{index}", "more"]})
        made.append(lf)
    return made


def _versions(lf: LabelingFunction, n: int) -> LabelingFunction:
    """n more versions of the LF, each by its own user."""
    for _ in range(n):
        labeling_function_update(lf=lf, user=UserFactory(), spec={"keywords": [f"v{next(SPECS)}"]})
    return lf


def _runs(project: Project, n: int) -> None:
    """n runs by n users, in every status, each with chunks."""
    last = LabelModelRun.objects.filter(project=project).aggregate(n=Max("number"))["n"] or 0
    statuses = list(RunStatus.values)
    for index in range(n):
        LabelModelRun.objects.create(
            project=project, number=last + index + 1, status=statuses[index % len(statuses)],
            created_by=UserFactory(), chunks=[[1, 10], [11, 20]], error="boom" if index % 2 else "",
        )  # fmt: skip


def _first_of_three_lfs(project: Project, owner: User) -> LabelingFunction:
    return _lfs(project, 3)[0]


def _lf_with_three_versions(project: Project, owner: User) -> LabelingFunction:
    return _versions(_lfs(project, 1)[0], 1)


# Each endpoint, given its first rows (three LFs, versions or runs)
test_the_endpoint_does_not_grow_with_its_rows = endpoint_test(
    Case("lf-list", lambda project: f"/api/projects/{project.slug}/labeling-functions/", _lfs, rows=results),
    Case(
        "lf-detail", lambda lf: f"/api/projects/{lf.project.slug}/labeling-functions/{lf.pk}/",
        lambda lf, n: _lfs(lf.project, n), given=_first_of_three_lfs,
    ),
    Case(
        "lf-version-list", lambda lf: f"/api/projects/{lf.project.slug}/labeling-functions/{lf.pk}/versions/",
        _versions, rows=listed, given=_lf_with_three_versions,
    ),
    Case("run-list", lambda project: f"/api/projects/{project.slug}/runs/", _runs, rows=results),
    Case("run-detail", lambda project: f"/api/projects/{project.slug}/runs/2/", _runs),
)  # fmt: skip
