"""The forum's search documents: a thread (its title, tags and opening post) and each reply.

A document is public exactly when an anonymous visitor may read what it shows, decided by the
same rule as the pages (`PostQuerySet.public`), so search never shows what a page hides.
"""
from __future__ import annotations

from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat

from core import markdown, search

from .models import Category, Post, Thread


def _thread_is_public(thread_id: int) -> bool:
    """The thread's document shows its opening post, so both must be public."""
    return Post.objects.public().filter(thread_id=thread_id, position=1).exists()


def reindex_thread(thread: Thread) -> None:
    opening = thread.posts.filter(position=1).first()
    body = markdown.plain_text(opening.body) if opening else ""
    search.index(kind=search.Kind.THREAD, object_id=thread.pk, title=thread.title,
                 tags=list(thread.tags.values_list("name", flat=True)), body=body,
                 url=thread.get_absolute_url(), is_public=_thread_is_public(thread.pk),
                 author_id=thread.author_id, created_at=thread.created_at)


def index_post(post: Post) -> None:
    if post.position == 1:
        return  # the opening post is indexed as the thread
    search.index(kind=search.Kind.POST, object_id=post.pk, title=post.thread.title, tags=[],
                 body=markdown.plain_text(post.body), url=post.get_absolute_url(),
                 is_public=Post.objects.public().filter(pk=post.pk).exists(),
                 author_id=post.author_id, created_at=post.created_at)


def retitle_replies(thread: Thread) -> None:
    """After the thread's title changed: its replies' documents show and match the new one."""
    replies = Post.objects.filter(thread_id=thread.pk, position__gt=1).values("pk")
    post_id = Cast("object_id", CharField())
    search.retitle(kind=search.Kind.POST, object_ids=replies, title=thread.title,
                   url=Concat(Value(f"{thread.get_absolute_url()}?post="), post_id, Value("#post-"), post_id))


def sync_visibility(*, thread_id: int) -> None:
    """After anything in the thread was hidden or shown: recompute which of its documents are
    public from the rows, so that unhiding a thread keeps posts hidden on their own hidden."""
    search.set_visibility(kind=search.Kind.THREAD, object_ids=[thread_id],
                          is_public=_thread_is_public(thread_id))
    replies = Post.objects.filter(thread_id=thread_id, position__gt=1)
    public = replies.public().values("pk")
    search.set_visibility(kind=search.Kind.POST, object_ids=replies.exclude(pk__in=public).values("pk"),
                          is_public=False)
    search.set_visibility(kind=search.Kind.POST, object_ids=public, is_public=True)


def in_category(category: Category) -> Q:
    """The documents of a category's threads and of their replies (read through the threads, so
    a thread moved to another category is found in its new one)."""
    return (Q(kind=search.Kind.THREAD, object_id__in=Thread.objects.filter(category=category).values("pk"))
            | Q(kind=search.Kind.POST, object_id__in=Post.objects.filter(thread__category=category).values("pk")))
