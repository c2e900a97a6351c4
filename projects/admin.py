from django.contrib import admin
from django.http import HttpRequest

from core.admin import ReadOnlyModelAdmin
from projects.models import ImportJob, Item, ItemSearchText, Label, LabelChange, Membership, Project


class LabelInline(admin.TabularInline):
    model = Label
    extra = 0

    def get_readonly_fields(self, request: HttpRequest, obj: Project | None = None) -> list[str]:
        # A label's key is what every answer, gold label, LF, snapshot and weak label stores: changing it here
        # would leave them all pointing at a key the schema no longer has. Names, hotkeys and colours may change.
        return ["key"] if obj is not None else []

    def has_add_permission(self, request: HttpRequest, obj: Project | None = None) -> bool:
        # Read-only keys apply to the whole inline, the empty form too: a stored project gets new labels from
        # the label admin's add page, which asks for the key.
        return obj is None and super().has_add_permission(request, obj)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "multi_label", "overlap", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [LabelInline, MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["project", "user", "role", "created_at"]
    list_filter = ["role", "project"]
    search_fields = ["user__username", "project__slug"]


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "external_id", "split", "created_at"]
    list_filter = ["project", "split"]
    search_fields = ["external_id", "text"]
    show_full_result_count = False
    raw_id_fields = ["project"]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "format", "original_name", "status", "rows_total", "created_at"]
    list_filter = ["status", "format"]
    readonly_fields = ["created_at", "updated_at", "started_at", "finished_at"]


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "project", "hotkey", "order"]
    search_fields = ["key", "name"]
    raw_id_fields = ["project"]

    def get_readonly_fields(self, request: HttpRequest, obj: Label | None = None) -> list[str]:
        # A stored label keeps its key and project (see LabelInline); a new one is given both.
        return ["key", "project"] if obj is not None else []


@admin.register(LabelChange)
class LabelChangeAdmin(ReadOnlyModelAdmin):
    """The schema's history: written by the schema services (Settings, API), never edited."""

    list_display = ["id", "project", "action", "key", "into", "changed_by", "created_at"]
    list_filter = ["action"]


@admin.register(ItemSearchText)
class ItemSearchTextAdmin(ReadOnlyModelAdmin):
    """Written by the search refresh after imports (projects.services.search); read-only here."""

    list_display = ["item", "project"]
    raw_id_fields = ["item"]
    show_full_result_count = False
