from django.urls import URLPattern, path

app_name = "datasets-api"

urlpatterns: list[URLPattern] = [
    # snapshots (datasets.api.snapshot_views) and export schedules (datasets.api.schedule_views) are added below.
]
