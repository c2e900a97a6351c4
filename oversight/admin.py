from django.contrib import admin

from core.admin import ModelAdmin
from oversight.models import ReviewRequest


@admin.register(ReviewRequest)
class ReviewRequestAdmin(ModelAdmin):
    list_display = ["id", "project", "item", "reasons", "priority", "status", "claimed_by", "resolved_at"]
    list_filter = ["status"]
    raw_id_fields = ["project", "item", "claimed_by", "resolved_by", "passed_by"]
