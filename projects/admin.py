from django.contrib import admin

from projects.models import ImportJob, Item, Label, Membership, Project


class LabelInline(admin.TabularInline):
    model = Label
    extra = 0


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
