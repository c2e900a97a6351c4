"""What every app's admin shares: foreign keys as raw ids (a select of a million items is no page), and no
full count of big tables."""

from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.http import HttpRequest


class ModelAdmin(admin.ModelAdmin):
    show_full_result_count = False

    def get_raw_id_fields(self, request: HttpRequest) -> list[str]:
        """Every foreign key and one-to-one field of the model, unless the admin lists its own."""
        if self.raw_id_fields:
            return list(self.raw_id_fields)
        return [
            field.name
            for field in self.model._meta.get_fields()
            if isinstance(field, models.ForeignKey) and field.name not in self.autocomplete_fields
        ]


class ReadOnlyModelAdmin(ModelAdmin):
    """Technical or append-only rows, written only by the services: shown, never edited here."""

    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False
