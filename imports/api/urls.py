from django.urls import path

from imports.api import views

app_name = "imports-api"

urlpatterns = [
    path("projects/<slug:slug>/imports/", views.ImportJobListCreateApi.as_view(), name="import-list"),
    path(
        "projects/<slug:slug>/imports/<int:job_id>/", views.ImportJobDetailApi.as_view(), name="import-detail"
    ),
]
