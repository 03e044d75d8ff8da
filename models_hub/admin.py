"""A resource's card, metadata, files and likes are written by the hub's services (README,
search, counters): here staff see them, publish drafts and set up how a model runs."""
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin, ServiceOnlyAdmin

from .models import Like, Relation, Resource, Runtime
from .services import publish_resource, take_down


class RuntimeInline(admin.StackedInline):
    model = Runtime
    fk_name = "resource"
    extra = 0


class RelationInline(admin.TabularInline):
    model = Relation
    fk_name = "source"
    extra = 0
    raw_id_fields = ("target",)


@admin.register(Resource)
class ResourceAdmin(ServiceOnlyAdmin):
    list_display = ("repo_id", "kind", "task", "license", "likes", "is_published", "updated_at")
    list_filter = ("kind", "task", "license", "is_published")
    search_fields = ("owner", "name", "title")
    inlines = [RuntimeInline, RelationInline]
    actions = ["publish", "take_down"]

    @admin.action(description=_("Publish the selected drafts"))
    def publish(self, request, queryset) -> None:
        for resource in queryset.filter(is_published=False):
            publish_resource(user=request.user, resource=resource)

    @admin.action(description=_("Take the selected resources down (back to drafts)"))
    def take_down(self, request, queryset) -> None:
        for resource in queryset.filter(is_published=True):
            take_down(moderator=request.user, resource=resource)


@admin.register(Like)
class LikeAdmin(ReadOnlyAdmin):
    list_display = ("user", "resource", "created_at")
