from django.urls import URLPattern, path

from datasets.api import schedule_views, snapshot_views

app_name = "datasets-api"

urlpatterns: list[URLPattern] = [
    # snapshots (datasets.api.snapshot_views) and export schedules (datasets.api.schedule_views) are added below.
    path(
        "projects/<slug:slug>/snapshots/",
        snapshot_views.SnapshotListCreateApi.as_view(),
        name="snapshot-list",
    ),
    path(
        "projects/<slug:slug>/snapshots/<int:version>/",
        snapshot_views.SnapshotDetailApi.as_view(),
        name="snapshot-detail",
    ),
    path(
        "projects/<slug:slug>/snapshots/<int:version>/files/<path:name>",
        snapshot_views.SnapshotFileApi.as_view(),
        name="snapshot-file",
    ),
    path(
        "projects/<slug:slug>/snapshots/diff/", snapshot_views.SnapshotDiffApi.as_view(), name="snapshot-diff"
    ),
    path(
        "projects/<slug:slug>/snapshots/jobs/<int:snapshot_id>/",
        snapshot_views.SnapshotJobApi.as_view(),
        name="snapshot-job",
    ),
    path(
        "projects/<slug:slug>/export-schedules/",
        schedule_views.ExportScheduleListCreateApi.as_view(),
        name="schedule-list",
    ),
    path(
        "projects/<slug:slug>/export-schedules/<int:schedule_id>/",
        schedule_views.ExportScheduleDetailApi.as_view(),
        name="schedule-detail",
    ),
    path(
        "projects/<slug:slug>/export-schedules/<int:schedule_id>/run/",
        schedule_views.ExportScheduleRunApi.as_view(),
        name="schedule-run",
    ),
]
