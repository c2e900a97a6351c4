"""DRF's browsable API under the Content-Security-Policy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import renderers

# The browsable API's Bootstrap pages carry style="" attributes and Pygments' inline <style>; scripts stay
# 'self' only. Only these pages get the exception (django-csp reads it from the response).
BROWSABLE_API_CSP_UPDATE = {"style-src": ["'unsafe-inline'"]}


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> Any:
        response = (renderer_context or {}).get("response")
        if response is not None:
            response._csp_update = BROWSABLE_API_CSP_UPDATE
        return super().render(data, accepted_media_type, renderer_context)
