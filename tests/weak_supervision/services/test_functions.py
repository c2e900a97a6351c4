from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from projects.models import Project
from tests.projects.factories import UserFactory
from tests.weak_supervision.factories import keyword_lf
from weak_supervision.models import LabelingFunctionVersion
from weak_supervision.services.functions import labeling_function_create, labeling_function_update

pytestmark = pytest.mark.django_db


def test_an_lf_is_created_with_its_first_version(project: Project) -> None:
    author = UserFactory()
    lf = labeling_function_create(project=project, user=author, name=" free ", kind="keyword", label="spam",
                                  spec={"keywords": ["free", "free", " win "]})  # fmt: skip

    assert (lf.name, lf.kind, lf.active) == ("free", "keyword", True)
    version = lf.current_version
    assert version is not None
    assert (version.number, version.label, version.created_by) == (1, "spam", author)
    assert version.spec == {
        "keywords": ["free", "win"],
        "mode": "any",
        "case_sensitive": False,
        "whole_words": True,
    }


def test_editing_the_rule_saves_a_new_version_and_keeps_the_old(project: Project) -> None:
    # given
    lf = keyword_lf(project, "free", "spam", "free")

    # when
    labeling_function_update(lf=lf, user=None, spec={"keywords": ["free", "prize"]})
    labeling_function_update(lf=lf, user=None, spec={"keywords": ["free", "prize"]})  # unchanged: no version
    labeling_function_update(lf=lf, user=None, label="ham", description="flipped", active=False)

    # then
    lf.refresh_from_db()
    versions = list(
        LabelingFunctionVersion.objects.filter(labeling_function=lf).values_list("number", "label")
    )
    assert versions == [(1, "spam"), (2, "spam"), (3, "ham")]
    assert LabelingFunctionVersion.objects.get(labeling_function=lf, number=1).spec["keywords"] == ["free"]
    assert (lf.current_version.number, lf.description, lf.active) == (3, "flipped", False)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "dup", "kind": "keyword", "label": "spam", "spec": {"keywords": ["x"]}}, "already exists"),
        (
            {"name": "x", "kind": "keyword", "label": "eggs", "spec": {"keywords": ["x"]}},
            "'eggs' is not a label",
        ),
        ({"name": "x", "kind": "external", "label": "spam", "spec": {}}, "Only keyword, regex and metadata"),
        ({"name": "x", "kind": "regex", "label": "spam", "spec": {"pattern": "("}}, "does not compile"),
        ({"name": "  ", "kind": "regex", "label": "spam", "spec": {"pattern": "a"}}, "needs a name"),
    ],
)
def test_bad_definitions_are_refused_and_nothing_is_saved(
    project: Project, fields: dict, message: str
) -> None:  # type: ignore[type-arg]
    keyword_lf(project, "dup", "spam", "x")
    with pytest.raises(ValidationError, match=message):
        labeling_function_create(project=project, user=None, **fields)
    assert project.labeling_functions.count() == 1
