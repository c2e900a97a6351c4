"""Snapshots are immutable and made by the services (UI, API, CLI, schedules), so the admin only shows them
and deletes them through the service (which removes their files too); schedules are edited on the project's
pages, which keep their beat entries in step."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from datasets.models import ExportSchedule, Snapshot


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Snapshot)
class SnapshotAdmin(_ReadOnlyAdmin):
    list_display = ["id", "project", "version", "status", "trigger", "policy", "row_count", "created_by",
                    "created_at"]  # fmt: skip
    list_filter = ["status", "trigger", "policy", "project"]
    search_fields = ["project__slug", "content_hash"]
    list_select_related = ["project", "created_by"]
    raw_id_fields = ["project", "created_by", "schedule", "run"]
    show_full_result_count = False

    def delete_model(self, request: HttpRequest, obj: Snapshot) -> None:
        self.delete_queryset(request, Snapshot.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Snapshot]) -> None:
        # Imported here: every process loads the admin modules when Django starts, and the snapshot services
        # reach the numeric stacks (tests/core/test_startup.py).
        from datasets.services.snapshots import snapshot_delete

        for snapshot in queryset:
            snapshot_delete(snapshot=snapshot)


@admin.register(ExportSchedule)
class ExportScheduleAdmin(_ReadOnlyAdmin):
    list_display = ["name", "project", "policy", "every", "period", "crontab", "keep_last", "enabled",
                    "last_run_at", "last_status"]  # fmt: skip
    list_filter = ["enabled", "policy", "project"]
    search_fields = ["name", "project__slug"]
    list_select_related = ["project"]
    raw_id_fields = ["project", "created_by", "periodic_task"]

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
