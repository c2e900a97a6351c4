"""An interaction event's payload as readable (name, value) pairs for the item page's history: labels, input
method, time taken, comments and notes; internal ids (the client's uuid, annotation and flag ids, offsets)
are left out. Keys a client sent that we do not know are shown by name with short values."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django import template
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.text import Truncator
from django.utils.timezone import localtime

from core.templatetags.number_format import MISSING, percent, seconds
from labeling.models import InteractionEvent

register = template.Library()

# Ids and offsets that mean nothing to a reader of the page (they stay in the API and the event export).
HIDDEN = frozenset({"client_uuid", "annotation_id", "flag_id", "annotations", "start", "end", "model"})
UNKNOWN_VALUE_CHARS = 120


def _labels(value: Any) -> str:
    if value is None:
        return MISSING
    return ", ".join(str(label) for label in value) if isinstance(value, list) else str(value)


def _when(value: Any) -> str:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    return date_format(localtime(parsed), "H:i") if isinstance(parsed, datetime) else str(value)


def _quote(value: Any) -> str:
    return f"“{Truncator(str(value)).chars(80)}”"


# payload key: (what the page calls it, how its value reads)
KNOWN: dict[str, tuple[str, Callable[[Any], str]]] = {
    "labels": ("labels", _labels),
    "previous": ("before", _labels),
    "suggested": ("suggested", str),
    "name": ("suggestion", str),
    "label": ("label", str),
    "confidence": ("confidence", percent),
    "quote": ("evidence", _quote),
    "comment": ("comment", _quote),
    "note": ("note", _quote),
    "reasons": ("reasons", _labels),
    "use_as_check": ("gold check", lambda value: "yes" if value else "no"),
    "input_method": ("input", str),
    "dwell_ms": ("time taken", lambda value: seconds(value, "ms")),
    "lead_time_ms": ("time taken", lambda value: seconds(value, "ms")),
    "lease_expires_at": ("reserved until", _when),
}


def _unknown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return Truncator(text).chars(UNKNOWN_VALUE_CHARS)


@register.filter
def event_details(event: InteractionEvent) -> list[tuple[str, str]]:
    """The event's payload as (name, value) pairs, in the payload's order, without empty values."""
    payload = event.payload if isinstance(event.payload, dict) else {}
    details = []
    for key, value in payload.items():
        if key in HIDDEN or value in (None, "", []):
            continue
        name, show = KNOWN.get(key, (key.replace("_", " "), _unknown))
        details.append((name, show(value)))
    return details
