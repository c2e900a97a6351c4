from django.contrib import admin

from labeling.models import Annotation, AnnotationRevision, InteractionEvent


class AnnotationRevisionInline(admin.TabularInline):
    model = AnnotationRevision
    extra = 0
    readonly_fields = ["labels", "lead_time_ms", "edited_by", "created_at"]


@admin.register(Annotation)
class AnnotationAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "project",
        "item",
        "annotator",
        "external_annotator",
        "labels",
        "source",
        "created_at",
    ]
    list_filter = ["project", "source"]
    raw_id_fields = ["item", "import_job"]
    show_full_result_count = False
    inlines = [AnnotationRevisionInline]


@admin.register(InteractionEvent)
class InteractionEventAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "type", "user", "item", "server_ts"]
    list_filter = ["project", "type"]
    raw_id_fields = ["item"]
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        return False  # append-only
