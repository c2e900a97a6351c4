"""Label keys: one rule turns a given key into a label's key, at creation and at every door that reads one."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from projects.services.label_keys import LabelKeys, annotation_labels_validate, label_key_normalise
from projects.services.projects import label_specs_from_keys, project_create
from tests.projects.factories import ProjectFactory

KEYS = LabelKeys(["ham", "spam", "not_sure"])


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("spam", "spam"),
        ("SPAM", "spam"),
        (" Spam ", "spam"),
        ("Not Sure", "not_sure"),
        ("not-sure", "not_sure"),
        ("NOT_SURE", "not_sure"),
        ("Café", "cafe"),
        ("!!", ""),
    ],
)
def test_a_key_is_read_as_creation_stores_it(raw: str, key: str) -> None:
    assert label_key_normalise(raw) == key


@pytest.mark.parametrize(
    ("raw", "found"),
    [("spam", "spam"), ("Spam", "spam"), ("NOT SURE", "not_sure"), ("not-sure", "not_sure"), ("eggs", None),
     ("", None), ("!!", None)],
)  # fmt: skip
def test_a_given_key_finds_its_label_in_any_case(raw: str, found: str | None) -> None:
    assert KEYS.find(raw) == found


def test_a_stored_key_that_creation_would_spell_otherwise_still_finds_itself() -> None:
    # given keys stored before the rule (or by hand), in capitals
    keys = LabelKeys(["HAM", "Spam"])

    # then each finds itself, as stored, and in any case
    assert [keys.find(raw) for raw in ("HAM", "ham", "Spam", "SPAM", "eggs")] == [
        "HAM",
        "HAM",
        "Spam",
        "Spam",
        None,
    ]


def test_keys_resolve_deduplicated_in_schema_order() -> None:
    assert KEYS.resolve(["Not Sure", "HAM", "ham"]) == ["ham", "not_sure"]


def test_unknown_keys_are_refused_listing_the_projects_labels() -> None:
    with pytest.raises(ValidationError) as error:
        KEYS.resolve(["Spam", "eggs", "bacon", "eggs"])
    assert error.value.messages == [
        "Unknown label(s): eggs, bacon. The project's labels are: ham, spam, not_sure."
    ]
    assert error.value.code == "unknown_label"


@pytest.mark.django_db
def test_a_project_created_with_a_spelling_takes_answers_in_that_spelling() -> None:
    # given a project whose labels were given as display text
    project = project_create(name="p", labels=label_specs_from_keys(["Not Spam", "Spam"]), created_by=None)

    # when an answer names a label as it was given at creation
    keys = annotation_labels_validate(project=project, labels=["Not Spam"])

    # then it finds the key creation stored
    assert list(project.labels.values_list("key", flat=True)) == ["not_spam", "spam"]
    assert keys == ["not_spam"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (["eggs"], "Unknown label(s): eggs. The project's labels are: ham, spam."),
        ([], "Choose at least one label."),
        (["HAM", "Spam"], "This project takes exactly one label per item."),
    ],
)
def test_bad_answers_are_refused_with_a_clear_message(labels: list[str], message: str) -> None:
    with pytest.raises(ValidationError) as error:
        annotation_labels_validate(project=ProjectFactory(), labels=labels)
    assert error.value.messages == [message]
