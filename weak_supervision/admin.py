from django.contrib import admin

from core.admin import ReadOnlyModelAdmin
from weak_supervision.models import (
    ExternalSpanVote,
    ExternalVote,
    ItemEndModelLabel,
    ItemLfVote,
    ItemWeakLabel,
    LabelingFunction,
    LabelingFunctionVersion,
    LabelModelRun,
    RunChunk,
)


@admin.register(LabelingFunction)
class LabelingFunctionAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "kind", "active", "created_at"]
    list_filter = ["project", "kind", "active"]
    search_fields = ["name"]


@admin.register(ExternalVote)
class ExternalVoteAdmin(admin.ModelAdmin):
    list_display = ["id", "labeling_function", "item", "label"]
    raw_id_fields = ["item", "labeling_function", "label"]
    show_full_result_count = False


@admin.register(ExternalSpanVote)
class ExternalSpanVoteAdmin(admin.ModelAdmin):
    list_display = ["id", "labeling_function", "item"]
    raw_id_fields = ["item", "labeling_function"]
    show_full_result_count = False


@admin.register(LabelingFunctionVersion)
class LabelingFunctionVersionAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "labeling_function", "number", "label", "created_by", "created_at"]


@admin.register(LabelModelRun)
class LabelModelRunAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "project", "number", "status", "item_count", "created_at", "finished_at"]
    list_filter = ["status"]


@admin.register(RunChunk)
class RunChunkAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "run", "index", "rows", "seconds", "finished_at"]


# The latest run's outputs per item, as the item browser filters them: written by runs, read-only here.
@admin.register(ItemWeakLabel)
class ItemWeakLabelAdmin(ReadOnlyModelAdmin):
    list_display = ["item", "project", "run", "label", "confidence"]
    raw_id_fields = ["item"]
    show_full_result_count = False


@admin.register(ItemEndModelLabel)
class ItemEndModelLabelAdmin(ReadOnlyModelAdmin):
    list_display = ["item", "project", "run", "label"]
    raw_id_fields = ["item"]
    show_full_result_count = False


@admin.register(ItemLfVote)
class ItemLfVoteAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "item", "labeling_function", "label"]
    raw_id_fields = ["item", "labeling_function"]
    show_full_result_count = False
