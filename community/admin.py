"""Threads and posts are written by the forum's services (revisions, counts, search, reputation):
here moderators look at them and act through those services; nothing is edited in place."""
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from core.admin import ChangedFieldsAdmin, ReadOnlyAdmin, ServiceOnlyAdmin

from .models import Category, Flag, ModerationAction, Post, Thread, User
from .moderation import moderate_thread, review_post


@admin.register(User)
class UserAdmin(ChangedFieldsAdmin, BaseUserAdmin):
    fieldsets = BaseUserAdmin.fieldsets + (("Community", {"fields": ("display_name", "bio", "reputation")}),)
    list_display = ("username", "email", "display_name", "reputation", "is_staff")
    readonly_fields = ("reputation", "last_login", "date_joined")


@admin.register(Category)
class CategoryAdmin(ChangedFieldsAdmin):
    list_display = ("name", "name_zh", "slug", "position", "thread_count")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("thread_count",)


def _thread_action(action: ModerationAction, description: str):
    def apply(modeladmin, request, queryset) -> None:
        for thread in queryset:
            moderate_thread(moderator=request.user, thread=thread, action=action)

    apply.__name__ = f"{action}_threads"
    apply.short_description = description
    return apply


@admin.register(Thread)
class ThreadAdmin(ServiceOnlyAdmin):
    list_display = ("title", "category", "author", "kind", "reply_count", "is_pinned", "is_locked", "is_hidden")
    list_filter = ("category", "kind", "is_pinned", "is_locked", "is_hidden")
    search_fields = ("title",)
    actions = [_thread_action(ModerationAction.HIDE, _("Hide the selected threads")),
               _thread_action(ModerationAction.UNHIDE, _("Show the selected threads")),
               _thread_action(ModerationAction.PIN, _("Pin the selected threads")),
               _thread_action(ModerationAction.UNPIN, _("Unpin the selected threads")),
               _thread_action(ModerationAction.LOCK, _("Lock the selected threads")),
               _thread_action(ModerationAction.UNLOCK, _("Unlock the selected threads"))]


@admin.register(Post)
class PostAdmin(ServiceOnlyAdmin):
    list_display = ("id", "thread", "author", "position", "score", "is_hidden", "flag_count")
    list_filter = ("is_hidden", "needs_review")
    actions = ["hide_posts", "show_posts"]

    @admin.action(description=_("Hide the selected posts (resolves their flags)"))
    def hide_posts(self, request, queryset) -> None:
        for post in queryset:
            review_post(moderator=request.user, post=post, keep_hidden=True)

    @admin.action(description=_("Show the selected posts (resolves their flags)"))
    def show_posts(self, request, queryset) -> None:
        for post in queryset:
            review_post(moderator=request.user, post=post, keep_hidden=False)


@admin.register(Flag)
class FlagAdmin(ReadOnlyAdmin):
    list_display = ("post", "user", "reason", "resolved", "created_at")
    list_filter = ("resolved",)
