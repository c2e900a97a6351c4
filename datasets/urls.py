from django.urls import URLPattern, path

app_name = "datasets"

urlpatterns: list[URLPattern] = [
    # snapshots (datasets.views.snapshots) and export schedules (datasets.views.schedules) are added below.
]
