from django.contrib import admin

from core.admin import ModelAdmin, ReadOnlyModelAdmin
from labeling.models import (
    Annotation,
    AnnotationRevision,
    Assignment,
    EvaluationLabel,
    Flag,
    GoldLabel,
    InteractionEvent,
    ItemAnswerSummary,
    Rationale,
)


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


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "project", "item", "user", "status", "expires_at"]
    list_filter = ["status"]


@admin.register(Flag)
class FlagAdmin(ModelAdmin):
    list_display = ["id", "project", "item", "user", "comment", "resolved_at", "created_at"]
    search_fields = ["comment"]


@admin.register(Rationale)
class RationaleAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "project", "item", "annotation", "label", "start", "end"]


@admin.register(GoldLabel)
class GoldLabelAdmin(ModelAdmin):
    list_display = ["item", "project", "labels", "source", "is_check", "decided_by", "updated_at"]
    list_filter = ["source", "is_check"]


@admin.register(EvaluationLabel)
class EvaluationLabelAdmin(ReadOnlyModelAdmin):
    list_display = ["item", "project", "labels", "import_job", "created_at"]


@admin.register(AnnotationRevision)
class AnnotationRevisionAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "annotation", "labels", "edited_by", "created_at"]


@admin.register(ItemAnswerSummary)
class ItemAnswerSummaryAdmin(ReadOnlyModelAdmin):
    """Kept by the writers of answers (labeling.services.answer_summary); read-only here."""

    list_display = ["item", "project", "answers", "distinct_answers", "labels"]
    raw_id_fields = ["item"]
    show_full_result_count = False
