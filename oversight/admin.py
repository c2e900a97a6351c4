from django.contrib import admin

from core.admin import ModelAdmin, ReadOnlyModelAdmin
from oversight.models import InferenceRun, ItemInferredLabel, ItemLabelIssue, LabelErrorScan, ReviewRequest


@admin.register(ReviewRequest)
class ReviewRequestAdmin(ModelAdmin):
    list_display = ["id", "project", "item", "reasons", "priority", "status", "claimed_by", "resolved_at"]
    list_filter = ["status"]
    raw_id_fields = ["project", "item", "claimed_by", "resolved_by", "passed_by"]


@admin.register(InferenceRun)
class InferenceRunAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "project", "number", "status", "trigger", "variant", "created_at", "finished_at"]
    list_filter = ["status", "trigger"]


@admin.register(ItemInferredLabel)
class ItemInferredLabelAdmin(ReadOnlyModelAdmin):
    list_display = ["item", "project", "run", "label", "confidence", "majority"]


@admin.register(LabelErrorScan)
class LabelErrorScanAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "project", "number", "status", "trigger", "n_labeled", "n_flagged", "created_at"]
    list_filter = ["status", "trigger"]


@admin.register(ItemLabelIssue)
class ItemLabelIssueAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "scan", "item", "rank", "given_label", "given_from", "predicted_label"]
