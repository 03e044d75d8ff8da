"""The admin is a window onto rows the site's services write. Counters, rendered text, search
documents and moderation state belong to those services, so the admin shows them read-only and
acts through the same services; what it does edit is saved field by field."""
from django.contrib import admin

from .models import ApiToken, Tag


class ChangedFieldsAdmin(admin.ModelAdmin):
    """Saves only the fields the form changed: a counter another request moved with F() since
    the page was loaded (a like, a reply, a vote) is not written back with its old value."""

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            return
        columns = {f.name for f in obj._meta.concrete_fields}
        fields = [name for name in form.changed_data if name in columns]
        if fields:
            obj.save(update_fields=fields)


class ServiceOnlyAdmin(admin.ModelAdmin):
    """Shown, filtered and acted on; created, edited and deleted on the site."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        options = self.model._meta
        plain_many = [f for f in options.many_to_many if f.remote_field.through._meta.auto_created]
        return [f.name for f in [*options.fields, *plain_many]]

    def save_model(self, request, obj, form, change) -> None:
        """Every field is read-only: saving the whole row would write back stale counters."""


class ReadOnlyAdmin(ServiceOnlyAdmin):
    """Rows only the site writes (likes, flags): looked at here, never changed."""

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "user", "created_at", "last_used_at")
    raw_id_fields = ("user",)
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")

    def has_add_permission(self, request) -> bool:
        return False  # a key is shown once, to the member who creates it in Settings
