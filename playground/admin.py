from django.contrib import admin

from .models import GenerationJob


@admin.register(GenerationJob)
class GenerationJobAdmin(admin.ModelAdmin):
    """Jobs are written by the platform: moderators look, and may make a run private."""

    list_display = ("id", "user", "resource", "mode", "status", "source", "is_public", "created_at")
    list_filter = ("status", "mode", "source", "is_public")
    search_fields = ("user__username", "resource__owner", "resource__name")
    raw_id_fields = ("user", "resource", "thread")
    readonly_fields = [f.name for f in GenerationJob._meta.fields if f.name not in ("is_public",)]

    def has_add_permission(self, request) -> bool:
        return False
