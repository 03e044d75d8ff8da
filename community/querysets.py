"""Reads: chainable QuerySet methods for users, threads and posts."""
from __future__ import annotations

from django.db import models
from django.db.models import Count, Exists, OuterRef, Prefetch, Q

from core.models import Tag


class UserQuerySet(models.QuerySet):
    def with_counts(self) -> "UserQuerySet":
        return self.annotate(
            thread_count=Count("threads", filter=Q(threads__is_hidden=False), distinct=True),
            post_count=Count("posts", filter=Q(posts__is_hidden=False), distinct=True),
        )


class AuthoredQuerySet(models.QuerySet):
    """Content with an author that moderators can hide: hidden rows are for staff and the author."""

    def visible_to(self, user):
        if user.is_authenticated and user.is_staff:
            return self
        if user.is_authenticated:
            return self.filter(Q(is_hidden=False) | Q(author=user))
        return self.filter(is_hidden=False)


class ThreadQuerySet(AuthoredQuerySet):

    def for_list(self) -> "ThreadQuerySet":
        return self.select_related("category", "author").prefetch_related(
            Prefetch("tags", queryset=Tag.objects.order_by("name"))
        )

    def latest(self) -> "ThreadQuerySet":
        return self.order_by("-is_pinned", "-last_activity_at", "-id")

    def top(self) -> "ThreadQuerySet":
        return self.order_by("-score", "-reply_count", "-id")

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


class PostQuerySet(AuthoredQuerySet):

    def for_display(self, user) -> "PostQuerySet":
        """Authors, the quoted post, and the viewer's own vote, in one query."""
        votes = self.model._meta.get_field("votes").related_model.objects
        posts = self.select_related("author", "reply_to__author").annotate(
            revision_count=Count("revisions")
        )
        if user.is_authenticated:
            my_vote = votes.filter(post=OuterRef("pk"), user=user).values("value")[:1]
            posts = posts.annotate(my_vote=models.Subquery(my_vote))
            posts = posts.annotate(
                my_flag=Exists(user.flags.filter(post=OuterRef("pk")))
            )
        else:
            posts = posts.annotate(my_vote=models.Value(None, models.SmallIntegerField()))
        return posts
