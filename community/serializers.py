from __future__ import annotations

from django.conf import settings
from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core import search
from core.models import MAX_TAGS, TAG_MAX_LENGTH
from core.pagination import StandardPagination

from .models import Category, Flag, ModerationAction, Notification, Post, Thread, User, Vote
from .moderation import SUSPENSION_MAX_DAYS, SUSPENSION_REASON_MAX_LENGTH


class CategoryField(serializers.SlugRelatedField):
    """A category named by its slug; a slug no category could have (a NUL, which PostgreSQL
    refuses in a query) is simply not found."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="slug", queryset=Category.objects.all(), **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data.replace("\x00", ""))
        return super().to_internal_value(data)


class UserSerializer(serializers.ModelSerializer):
    thread_count = serializers.IntegerField(read_only=True, default=0)
    post_count = serializers.IntegerField(read_only=True, default=0)

    def to_representation(self, instance):
        """A suspension shows while it lasts, as on the profile; once over, it is nobody's business."""
        data = super().to_representation(instance)
        if not instance.is_suspended:
            data["suspended_until"], data["suspension_reason"] = None, ""
        return data

    class Meta:
        model = User
        fields = ["username", "display_name", "bio", "date_joined", "reputation", "thread_count",
                  "post_count", "is_active", "suspended_until", "suspension_reason"]
        read_only_fields = ["username", "date_joined", "reputation", "is_active", "suspended_until",
                            "suspension_reason"]


class MuteSerializer(serializers.Serializer):
    muted = serializers.BooleanField(read_only=True)


class SuspensionSerializer(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=SUSPENSION_MAX_DAYS)
    reason = serializers.CharField(max_length=SUSPENSION_REASON_MAX_LENGTH)


class MeSerializer(UserSerializer):
    pending_email = serializers.CharField(read_only=True, help_text=(
        "A new address asked for, in use once the link sent to it is followed; empty when none."))
    current_password = serializers.CharField(
        write_only=True, required=False, trim_whitespace=False, style={"input_type": "password"},
        help_text="Required to change `email`.")

    class Meta(UserSerializer.Meta):
        fields = UserSerializer.Meta.fields + ["email", "pending_email", "is_staff", "email_notifications",
                                               "current_password"]
        read_only_fields = UserSerializer.Meta.read_only_fields + ["is_staff", "pending_email"]


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"})


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "slug", "name", "name_zh", "description", "description_zh", "position",
                  "thread_count", "members_start_threads"]
        read_only_fields = ["thread_count"]


class ThreadSerializer(serializers.ModelSerializer):
    category = CategoryField()
    tags = serializers.ListField(child=serializers.CharField(max_length=TAG_MAX_LENGTH), max_length=MAX_TAGS,
                                 required=False, default=list, write_only=True)
    author = serializers.CharField(source="author.username", read_only=True)
    url = serializers.SerializerMethodField()
    new_replies = serializers.SerializerMethodField()
    is_watching = serializers.BooleanField(read_only=True, help_text="The caller gets a notification for every reply.")
    is_bookmarked = serializers.BooleanField(read_only=True)
    body = serializers.CharField(write_only=True, max_length=settings.MARKDOWN_MAX_LENGTH)

    class Meta:
        model = Thread
        fields = ["id", "title", "slug", "kind", "category", "tags", "author", "created_at",
                  "last_activity_at", "reply_count", "view_count", "score", "is_pinned", "is_locked",
                  "is_hidden", "accepted_post", "url", "new_replies", "is_watching", "is_bookmarked", "body"]
        read_only_fields = ["slug", "created_at", "last_activity_at", "reply_count", "view_count", "score",
                            "is_pinned", "is_locked", "is_hidden", "accepted_post"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["tags"] = [t.name for t in instance.tags.all()]
        return data

    @extend_schema_field(serializers.CharField(help_text="Path of the thread page on this site."))
    def get_url(self, obj: Thread) -> str:
        return obj.get_absolute_url()

    @extend_schema_field(serializers.IntegerField(
        allow_null=True, help_text="Replies past where the caller last read the thread's page; null for a "
                                   "thread they never opened (and for anonymous callers)."))
    def get_new_replies(self, obj: Thread) -> int | None:
        if getattr(obj, "read_up_to", None) is None:
            return None
        return getattr(obj, "new_replies", None) or 0


class ThreadUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=Thread._meta.get_field("title").max_length, required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=TAG_MAX_LENGTH), max_length=MAX_TAGS,
                                 required=False)
    kind = serializers.ChoiceField(choices=Thread.Kind.choices, required=False)


class ThreadCreatedSerializer(ThreadSerializer):
    first_post = serializers.SerializerMethodField()

    class Meta(ThreadSerializer.Meta):
        fields = ThreadSerializer.Meta.fields + ["first_post"]

    @extend_schema_field(serializers.DictField())
    def get_first_post(self, obj: Thread) -> dict:
        post = obj.posts.select_related("author").get(position=1)
        post.my_vote = None
        return PostSerializer(post).data


class PostSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", read_only=True)
    my_vote = serializers.IntegerField(read_only=True, allow_null=True, default=None)
    body = serializers.CharField(max_length=settings.MARKDOWN_MAX_LENGTH)
    reply_to = serializers.PrimaryKeyRelatedField(queryset=Post.objects.all(), required=False,
                                                  allow_null=True)

    class Meta:
        model = Post
        fields = ["id", "thread", "position", "author", "body", "body_html", "created_at",
                  "edited_at", "score", "my_vote", "reply_to", "is_hidden"]
        read_only_fields = ["thread", "position", "body_html", "created_at", "edited_at", "score",
                            "is_hidden"]


class PostUpdateSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=settings.MARKDOWN_MAX_LENGTH)


class VoteSerializer(serializers.Serializer):
    value = serializers.ChoiceField(choices=[*Vote.Value.values, 0])


class VoteResultSerializer(serializers.Serializer):
    score = serializers.IntegerField()
    my_vote = serializers.IntegerField(allow_null=True)


class AcceptSerializer(serializers.Serializer):
    post = serializers.PrimaryKeyRelatedField(queryset=Post.objects.all(), allow_null=True)


class ReadSerializer(serializers.Serializer):
    position = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False,
                                        help_text="The last post position read; the thread's last by default.")


class DismissSerializer(serializers.Serializer):
    tab = serializers.ChoiceField(choices=["new", "unread"], help_text="The list whose threads count as read.")
    category = CategoryField(required=False, allow_null=True, help_text="Only this category's threads.")


class WatchSerializer(serializers.Serializer):
    watching = serializers.BooleanField()


class BookmarkSerializer(serializers.Serializer):
    bookmarked = serializers.BooleanField()


class FlagSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Flag.Kind.choices, default=Flag.Kind.OTHER)
    reason = serializers.CharField(max_length=Flag._meta.get_field("reason").max_length, required=False,
                                   allow_blank=True, default="", help_text="Required when kind is other.")


class ModerateSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=ModerationAction.choices)
    category = CategoryField(required=False, allow_null=True)


class SearchHitSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=search.Kind.choices)
    id = serializers.IntegerField()
    title = serializers.CharField()
    snippet = serializers.CharField(help_text="HTML-escaped text with matches in <mark>.")
    url = serializers.CharField()
    rank = serializers.FloatField()


class NotificationSerializer(serializers.ModelSerializer):
    """A post's notification has its actor and thread; a job's (kinds `*_done`, `*_failed`) has
    neither, and names its `subject` instead."""

    actor = serializers.CharField(source="actor.username", allow_null=True, default=None)
    url = serializers.SerializerMethodField()
    thread_title = serializers.CharField(source="thread.title", allow_null=True, default=None)

    class Meta:
        model = Notification
        fields = ["id", "kind", "read", "created_at", "actor", "url", "thread_title", "subject"]

    @extend_schema_field(serializers.CharField())
    def get_url(self, obj: Notification) -> str:
        return obj.get_absolute_url()


class MarkReadSerializer(serializers.Serializer):
    """Ids of notifications to mark read (none: all of them): at most one page's worth, each
    within the primary key's range."""

    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=models.BigIntegerField.MAX_BIGINT),
        required=False, max_length=StandardPagination.max_page_size)
