"""core.commands: a command-line argument turned into the object it names, or one message saying it is not there."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError

from core.commands import command_object_get
from tests.projects.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_command_object_get_returns_the_object_of_the_model_with_that_value() -> None:
    # given two users
    UserFactory(username="ann")
    bob = UserFactory(username="bob")

    # when the model is searched for one of them by name
    found = command_object_get(get_user_model(), field="username", value="bob", noun="user")

    # then that user is the one returned
    assert found.pk == bob.pk


def test_command_object_get_names_the_noun_field_and_value_when_nothing_matches() -> None:
    # given no user called "nobody"
    UserFactory(username="ann")

    # when it is asked for
    with pytest.raises(CommandError) as error:
        command_object_get(get_user_model(), field="username", value="nobody", noun="user")

    # then the command ends with the one message format
    assert str(error.value) == "No user with the username 'nobody'."


def test_command_object_get_searches_only_the_queryset_it_is_given() -> None:
    # given an active and an inactive user
    UserFactory(username="ann")
    UserFactory(username="old", is_active=False)
    active = get_user_model().objects.filter(is_active=True)

    # when the active users are searched for each of them
    found = command_object_get(active, field="username", value="ann", noun="active user")
    with pytest.raises(CommandError) as error:
        command_object_get(active, field="username", value="old", noun="active user")

    # then the active one is found and the inactive one is not there
    assert found.username == "ann"
    assert str(error.value) == "No active user with the username 'old'."
