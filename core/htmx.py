"""Helpers for views that serve a full page and its htmx fragments from one template (STYLE.md §5)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def render_partial(
    request: HtmxHttpRequest, template: str, context: dict[str, Any], *, partial: str, status: int = 200
) -> HttpResponse:
    """The whole page normally; only `template#partial` for an htmx request that is not boosted."""
    name = f"{template}#{partial}" if request.htmx and not request.htmx.boosted else template
    response = render(request, name, context, status=status)
    response["Vary"] = "HX-Request"
    return response
