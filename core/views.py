from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.health import health_check


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    report = health_check()
    return JsonResponse(report, status=200 if report["ok"] else 503)
