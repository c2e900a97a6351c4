from csp.decorators import csp_update
from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from core.views import healthz

REDOC_CSP = csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]})

api_patterns: list[URLPattern | URLResolver] = [
    path("", include("projects.api.urls")),
    path("", include("labeling.api.urls")),
    path("", include("oversight.api.urls")),
    path("", include("imports.api.urls")),
    path("", include("weak_supervision.api.urls")),
    path("", include("datasets.api.urls")),
    path("", include("active_learning.api.urls")),
    path("", include("accounts.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's set-up script as a file: no inline script under the CSP.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Redoc's bundle writes its styles into <style> elements and starts a worker from a blob: at run time;
    # scripts stay 'self' only.
    path("redoc/", REDOC_CSP(SpectacularRedocView.as_view(url_name="api-schema")), name="api-redoc"),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="projects:project-list", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(template_name="core/login.html"), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("accounts.urls")),
    path("api/", include(api_patterns)),
    path("projects/", include("projects.urls")),
    path("projects/", include("labeling.urls")),
    path("projects/", include("oversight.urls")),
    path("projects/", include("imports.urls")),
    path("projects/", include("weak_supervision.urls")),
    path("projects/", include("datasets.urls")),
    path("projects/", include("active_learning.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
