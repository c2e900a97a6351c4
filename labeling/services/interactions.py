"""Flags and interaction events that the browser (or an API client) reports outside a submission."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from labeling.choices import EventType
from labeling.hooks import ItemFlagged, item_flagged
from labeling.models import Flag, InteractionEvent
from labeling.services.queue import input_method_validate, project_item_get
from projects.models import Item, Project

MAX_COMMENT = 2000
MAX_EVENTS = 500
MAX_PAYLOAD_BYTES = 4096
# What a client may report by itself. Views, submits, skips, undos and flags are written by the services
# that carry them out, in the same transaction, so a client cannot invent them.
CLIENT_EVENT_TYPES = frozenset(
    {
        EventType.RATIONALE,
        EventType.CHANGE,
        EventType.SUGGESTION_SHOWN,
        EventType.SUGGESTION_ACCEPTED,
        EventType.SUGGESTION_REJECTED,
    }
)
ERROR_COMMENT = f"A flag's comment may be at most {MAX_COMMENT} characters."
ERROR_TOO_MANY_EVENTS = f"At most {MAX_EVENTS} events per request."
ERROR_EVENT_TYPE = "Event {index}: '{type}' cannot be reported by a client (allowed: {allowed})."
ERROR_EVENT_PAYLOAD = (
    f"Event {{index}}: the payload must be a JSON object of at most {MAX_PAYLOAD_BYTES} bytes."
)
ERROR_EVENT_ITEM = "Event {index}: item {item_id} is not in this project."


@dataclass(frozen=True)
class EventSpec:
    type: str
    item_id: int | None = None
    client_ts: datetime | None = None
    payload: dict[str, Any] = field(default_factory=dict)


def item_flag(
    *,
    project: Project,
    user: User,
    item_id: int,
    comment: str = "",
    input_method: str = "",
    client_ts: datetime | None = None,
) -> Flag:
    """Flags an item for review with an optional comment; the item stays in the analyst's hands."""
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise ValidationError(ERROR_COMMENT, code="comment")
    input_method_validate(input_method)
    now = timezone.now()
    with transaction.atomic():
        item = project_item_get(project=project, item_id=item_id)
        flag = Flag.objects.create(project=project, item=item, user=user, comment=comment)
        InteractionEvent.objects.create(
            project=project, item=item, user=user, type=EventType.FLAG,
            payload={"flag_id": flag.pk, "comment": comment, "input_method": input_method},
            client_ts=client_ts, server_ts=now,
        )  # fmt: skip
        item_flagged(ItemFlagged(project=project, flag=flag))
    return flag


def interaction_events_record(*, project: Project, user: User, events: Sequence[EventSpec]) -> int:
    """Stores a batch of client-reported events, all or none; returns how many."""
    if len(events) > MAX_EVENTS:
        raise ValidationError(ERROR_TOO_MANY_EVENTS, code="too_many_events")
    allowed = ", ".join(sorted(CLIENT_EVENT_TYPES))
    for index, spec in enumerate(events, start=1):
        if spec.type not in CLIENT_EVENT_TYPES:
            raise ValidationError(
                ERROR_EVENT_TYPE.format(index=index, type=spec.type, allowed=allowed), code="type"
            )
        if not isinstance(spec.payload, dict) or len(json.dumps(spec.payload)) > MAX_PAYLOAD_BYTES:
            raise ValidationError(ERROR_EVENT_PAYLOAD.format(index=index), code="payload")
    wanted = {spec.item_id for spec in events if spec.item_id is not None}
    known = set(Item.objects.filter(project=project, pk__in=wanted).values_list("pk", flat=True))
    for index, spec in enumerate(events, start=1):
        if spec.item_id is not None and spec.item_id not in known:
            raise ValidationError(ERROR_EVENT_ITEM.format(index=index, item_id=spec.item_id), code="item")
    now = timezone.now()
    InteractionEvent.objects.bulk_create(
        InteractionEvent(
            project=project,
            item_id=spec.item_id,
            user=user,
            type=spec.type,
            payload=spec.payload,
            client_ts=spec.client_ts,
            server_ts=now,
        )
        for spec in events
    )
    return len(events)
