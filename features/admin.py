from django.contrib import admin

from core.admin import ReadOnlyModelAdmin
from features.models import FeatureBlock


@admin.register(FeatureBlock)
class FeatureBlockAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "project", "kind", "first_id", "last_id", "rows", "created_at"]
    list_filter = ["kind"]
