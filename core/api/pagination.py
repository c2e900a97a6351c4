from __future__ import annotations

from typing import Any

from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from core.pagination import COUNT_CAP, CappedPaginator


class DefaultPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000


class CappedPagination(DefaultPagination):
    """Counts at most core.pagination.COUNT_CAP rows: `count` stops there and `count_capped` says so."""

    django_paginator_class = CappedPaginator

    def get_paginated_response(self, data: Any) -> Response:
        response = super().get_paginated_response(data)
        paginator = self.page.paginator if self.page is not None else None
        if isinstance(paginator, CappedPaginator):
            response.data["count"] = min(paginator.count, paginator.cap)
            response.data["count_capped"] = paginator.capped
        return response

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        described = super().get_paginated_response_schema(schema)
        described["properties"]["count_capped"] = {
            "type": "boolean",
            "description": f"True where more than {COUNT_CAP:,} rows match: `count` stops there.",
        }
        return described
