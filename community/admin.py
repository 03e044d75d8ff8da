from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import Category, Flag, Post, Thread, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = BaseUserAdmin.fieldsets + (("Community", {"fields": ("display_name", "bio", "reputation")}),)
    list_display = ("username", "email", "display_name", "reputation", "is_staff")


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "name_zh", "slug", "position", "thread_count")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Thread)
class ThreadAdmin(admin.ModelAdmin):
    list_display = ("title", "category", "author", "kind", "reply_count", "is_pinned", "is_locked", "is_hidden")
    list_filter = ("category", "kind", "is_pinned", "is_locked", "is_hidden")
    search_fields = ("title",)
    raw_id_fields = ("author", "accepted_post")


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ("id", "thread", "author", "position", "score", "is_hidden", "flag_count")
    list_filter = ("is_hidden", "needs_review")
    raw_id_fields = ("thread", "author", "reply_to")


admin.site.register(Flag)
