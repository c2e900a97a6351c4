"""Showing the model's suggestion to an analyst, recorded as an interaction event (accepting or rejecting it
is recorded by the submission that follows: labeling.services.annotations)."""

from __future__ import annotations

from dataclasses import asdict

from django.contrib.auth.models import AbstractBaseUser

from active_learning.selectors import suggestion_get
from labeling.choices import EventType
from labeling.hooks import Suggestion
from labeling.models import InteractionEvent
from projects.models import Item, Project


def suggestion_show(*, project: Project, user: AbstractBaseUser, item: Item) -> Suggestion | None:
    """The suggestion for the item the analyst is about to see (None when the project shows none)."""
    suggestion = suggestion_get(project=project, item=item)
    if suggestion is not None:
        InteractionEvent.objects.create(
            project=project,
            item=item,
            user_id=user.pk,
            type=EventType.SUGGESTION_SHOWN,
            payload=asdict(suggestion),
        )
    return suggestion
