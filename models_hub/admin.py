from django.contrib import admin

from .models import Like, Relation, Resource, Runtime


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
class ResourceAdmin(admin.ModelAdmin):
    list_display = ("repo_id", "kind", "task", "license", "likes", "updated_at")
    list_filter = ("kind", "task", "license")
    search_fields = ("owner", "name", "title")
    inlines = [RuntimeInline, RelationInline]
    raw_id_fields = ("submitter", "thread")


admin.site.register(Like)
