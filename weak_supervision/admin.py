from django.contrib import admin

from weak_supervision.models import ExternalVote, LabelingFunction


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
