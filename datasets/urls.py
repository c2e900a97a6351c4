from django.urls import URLPattern, path

from datasets.views import schedules, snapshots

app_name = "datasets"

urlpatterns: list[URLPattern] = [
    # snapshots (datasets.views.snapshots) and export schedules (datasets.views.schedules) are added below.
    path("<slug:slug>/datasets/", snapshots.snapshot_list, name="snapshot-list"),
    path("<slug:slug>/datasets/v<int:version>/", snapshots.snapshot_detail, name="snapshot-detail"),
    path(
        "<slug:slug>/datasets/v<int:version>/files/<path:name>",
        snapshots.snapshot_download,
        name="snapshot-download",
    ),
    path("<slug:slug>/datasets/diff/", snapshots.snapshot_diff_view, name="snapshot-diff"),
    path("<slug:slug>/datasets/jobs/<int:snapshot_id>/", snapshots.snapshot_status, name="snapshot-status"),
    path("<slug:slug>/datasets/schedules/", schedules.schedule_list, name="schedule-list"),
    path(
        "<slug:slug>/datasets/schedules/<int:schedule_id>/", schedules.schedule_update, name="schedule-update"
    ),
    path(
        "<slug:slug>/datasets/schedules/<int:schedule_id>/run/",
        schedules.schedule_run_now,
        name="schedule-run",
    ),
]
