"""Reads: chainable QuerySet methods for users, threads, posts and notifications."""
from __future__ import annotations

from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.db.models import Case, Count, Exists, ExpressionWrapper, F, OuterRef, Prefetch, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from core.models import Tag
from core.permissions import is_moderator

# Discourse's periods for its Top tab: how many days back a thread may have started (None: ever).
TOP_PERIODS = {"all": None, "yearly": 365, "quarterly": 90, "monthly": 30, "weekly": 7, "daily": 1}


def authored_visibility(user, prefix: str = "") -> Q:
    """Rows with `is_hidden` and `author` under `prefix`: shown unless hidden, hidden ones to
    their author only (moderators see everything: callers skip the filter for them)."""
    shown = Q(**{f"{prefix}is_hidden": False})
    if user.is_authenticated:
        shown |= Q(**{f"{prefix}author": user})
    return shown


def post_visibility(user, prefix: str = "") -> Q:
    """A post is visible when both it and its thread are: hiding a thread hides every post in it,
    and unhiding the thread leaves posts hidden on their own hidden."""
    return authored_visibility(user, prefix) & authored_visibility(user, f"{prefix}thread__")


def _counted(rows: models.QuerySet) -> Coalesce:
    """How many of `rows` (filtered on an author = OuterRef) there are, as one subquery."""
    return Coalesce(Subquery(rows.order_by().values("author").annotate(n=Count("pk")).values("n")[:1]), 0)


class CategoryQuerySet(models.QuerySet):
    def open_to_members(self) -> "CategoryQuerySet":
        """Where members start threads (not where the site starts each one)."""
        return self.filter(members_start_threads=True)


class UserQuerySet(models.QuerySet):
    def with_counts(self) -> "UserQuerySet":
        """Public counts: what anyone can see of the member's threads, posts, and replies (posts
        but the opening ones). Each is a subquery of its own: counted through joins, the member's
        threads would multiply with their posts."""
        threads = apps.get_model("community", "Thread").objects.filter(author=OuterRef("pk"), is_hidden=False)
        posts = apps.get_model("community", "Post").objects.filter(author=OuterRef("pk"), is_hidden=False,
                                                                   thread__is_hidden=False)
        return self.annotate(thread_count=_counted(threads), post_count=_counted(posts),
                             reply_count=_counted(posts.filter(position__gt=1)))

    def named_ignoring_case(self, names: list[str]) -> "UserQuerySet":
        """The members with these usernames, however each is capitalised (usernames are unique
        ignoring case, as on Discourse: @Alice is alice)."""
        return self.annotate(username_lower=Lower("username")).filter(
            username_lower__in=[name.lower() for name in names])


class AuthoredQuerySet(models.QuerySet):
    """Content with an author that moderators can hide: hidden rows are for staff and the author."""

    def visible_to(self, user):
        return self if is_moderator(user) else self.filter(authored_visibility(user))


class ThreadQuerySet(AuthoredQuerySet):

    def for_list(self) -> "ThreadQuerySet":
        return self.select_related("category", "author").prefetch_related(
            Prefetch("tags", queryset=Tag.objects.order_by("name"))
        )

    def with_viewer_state(self, user) -> "ThreadQuerySet":
        """`is_watching` and `is_bookmarked` for this viewer, in the thread's own query."""
        if not user.is_authenticated:
            no = Value(False, output_field=models.BooleanField())
            return self.annotate(is_watching=no, is_bookmarked=no)
        mine = {"user": user, "thread": OuterRef("pk")}
        return self.annotate(
            is_watching=Exists(apps.get_model("community", "Watch").objects.filter(**mine)),
            is_bookmarked=Exists(apps.get_model("community", "Bookmark").objects.filter(**mine)),
        )

    def with_read_position(self, user) -> "ThreadQuerySet":
        """`read_up_to`: the highest post position `user` was shown (None: never opened)."""
        if not user.is_authenticated:
            return self.annotate(read_up_to=Value(None, output_field=models.IntegerField()))
        read = apps.get_model("community", "ThreadRead").objects.filter(user=user, thread=OuterRef("pk"))
        return self.annotate(read_up_to=Subquery(read.values("last_position")[:1]))

    def with_new_replies(self, user) -> "ThreadQuerySet":
        """`new_replies` (replies `user` may see past where they last read; None for a thread
        they never opened) and `first_new_post_id`, each in the thread's own query."""
        if not user.is_authenticated:
            none = Value(None, output_field=models.IntegerField())
            return self.annotate(new_replies=none, first_new_post_id=none)
        unread = (apps.get_model("community", "Post").objects.visible_to(user)
                  .filter(thread=OuterRef("pk"), position__gt=OuterRef("read_up_to")))
        return self.with_read_position(user).annotate(
            new_replies=Subquery(unread.values("thread").annotate(n=Count("pk")).values("n")[:1]),
            first_new_post_id=Subquery(unread.order_by("position").values("pk")[:1]),
        )

    def unread_by(self, user) -> "ThreadQuerySet":
        """Threads `user` opened that have replies they may see past where they read (Discourse's
        Unread), annotated as `with_new_replies`. The read state's position against the thread's
        highest narrows the rows to threads they fell behind in; the visible count settles it
        (a reply hidden since is nothing new)."""
        if not user.is_authenticated:
            return self.none()
        behind = apps.get_model("community", "ThreadRead").objects.filter(
            user=user, thread=OuterRef("pk"), last_position__lt=OuterRef("highest_position"))
        return self.filter(Exists(behind)).with_new_replies(user).filter(new_replies__gt=0)

    def new_for(self, user) -> "ThreadQuerySet":
        """Threads started in the last FORUM_NEW_THREAD_DAYS that `user` has not opened, by others
        (Discourse's New); none for a visitor."""
        if not user.is_authenticated:
            return self.none()
        opened = apps.get_model("community", "ThreadRead").objects.filter(user=user, thread=OuterRef("pk"))
        since = timezone.now() - timedelta(days=settings.FORUM_NEW_THREAD_DAYS)
        return self.filter(created_at__gte=since).exclude(author=user).exclude(Exists(opened))

    def bookmarked_by(self, user) -> "ThreadQuerySet":
        """The threads `user` bookmarked, the newest bookmark first (none for a visitor)."""
        if not user.is_authenticated:
            return self.none()
        marks = apps.get_model("community", "Bookmark").objects.filter(user=user, thread=OuterRef("pk"))
        return (self.annotate(bookmarked_at=Subquery(marks.values("created_at")[:1]))
                .filter(bookmarked_at__isnull=False).order_by("-bookmarked_at", "-id"))

    def suggested_after(self, thread, user, *, limit: int = 5) -> "ThreadQuerySet":
        """What to read next after `thread` (Discourse's Suggested Topics): threads in its
        category with replies `user` has not read first, then the most recently active ones."""
        unread_first = Case(When(new_replies__gt=0, then=Value(1)), default=Value(0),
                            output_field=models.IntegerField())
        return (self.filter(category=thread.category_id).exclude(pk=thread.pk).for_list().with_new_replies(user)
                .annotate(unread_first=unread_first).order_by("-unread_first", "-last_activity_at", "-id")[:limit])

    def tag_counts(self, *, by_name: bool = False) -> models.QuerySet:
        """Each tag these threads carry, as {"name", "threads"} rows: the most used first (ties by
        name), or by name."""
        rows = self.filter(tags__isnull=False).values(name=F("tags__name")).annotate(threads=Count("pk"))
        return rows.order_by("name") if by_name else rows.order_by("-threads", "name")

    def latest(self) -> "ThreadQuerySet":
        return self.order_by("-is_pinned", "-last_activity_at", "-id")

    def top(self, period: str = "all") -> "ThreadQuerySet":
        """The best-scored threads, of those started within `period` (a TOP_PERIODS key), as
        Discourse's Top tab lists them."""
        days = TOP_PERIODS[period]
        threads = self if days is None else self.filter(created_at__gte=timezone.now() - timedelta(days=days))
        return threads.order_by("-score", "-reply_count", "-id")

    def unanswered(self) -> "ThreadQuerySet":
        return self.filter(kind=self.model.Kind.QUESTION, reply_count=0).order_by("-created_at", "-id")

    def solved(self) -> "ThreadQuerySet":
        return self.filter(accepted_post__isnull=False)

    def ordered(self, ordering: str | None) -> "ThreadQuerySet":
        allowed = {
            "-last_activity": ("-last_activity_at", "-id"),
            "-created": ("-created_at", "-id"),
            "-score": ("-score", "-id"),
        }
        return self.order_by(*allowed.get(ordering or "", ("-is_pinned", "-last_activity_at", "-id")))


class PostQuerySet(models.QuerySet):

    def visible_to(self, user) -> "PostQuerySet":
        """Posts this user may read: moderators all; others posts that are not hidden in threads
        that are not hidden, plus their own hidden posts and the posts of their own hidden thread."""
        return self if is_moderator(user) else self.filter(post_visibility(user))

    def public(self) -> "PostQuerySet":
        """What anonymous visitors (and the search index) may see."""
        return self.filter(post_visibility(AnonymousUser()))

    def for_display(self, user) -> "PostQuerySet":
        """Authors, the quoted post (and whether this viewer may read it), and the viewer's own
        vote, in one query. No aggregates here: one would GROUP BY every selected column, which
        costs more to plan than the page costs to read."""
        votes = self.model._meta.get_field("votes").related_model.objects
        quote_visible = Value(True, output_field=models.BooleanField()) if is_moderator(user) else \
            ExpressionWrapper(post_visibility(user, "reply_to__"), output_field=models.BooleanField())
        posts = self.select_related("author", "reply_to__author").annotate(reply_to_visible=quote_visible)
        if user.is_authenticated:
            my_vote = votes.filter(post=OuterRef("pk"), user=user).values("value")[:1]
            posts = posts.annotate(my_vote=models.Subquery(my_vote))
            posts = posts.annotate(
                my_flag=Exists(user.flags.filter(post=OuterRef("pk")))
            )
        else:
            posts = posts.annotate(my_vote=models.Value(None, models.SmallIntegerField()))
        return posts


class NotificationQuerySet(models.QuerySet):
    def for_recipient(self, user) -> "NotificationQuerySet":
        """The user's notifications about posts they may still read (one about a post or thread
        hidden since shows neither the thread's title nor who wrote it), and those about their jobs."""
        mine = self.filter(recipient=user)
        return mine if is_moderator(user) else mine.filter(Q(post__isnull=True) | post_visibility(user, "post__"))
