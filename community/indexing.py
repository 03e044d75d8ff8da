"""The forum's search documents: a thread (its title, tags and opening post) and each reply."""
from __future__ import annotations

from core import markdown, search

from .models import Post, Thread


def reindex_thread(thread: Thread) -> None:
    opening = thread.posts.filter(position=1).first()
    body = markdown.plain_text(opening.body) if opening else ""
    search.index(kind=search.Kind.THREAD, object_id=thread.pk, title=thread.title,
                 tags=list(thread.tags.values_list("name", flat=True)), body=body,
                 url=thread.get_absolute_url(), is_public=not thread.is_hidden)


def index_post(post: Post) -> None:
    if post.position == 1:
        return  # the opening post is indexed as the thread
    search.index(kind=search.Kind.POST, object_id=post.pk, title=post.thread.title, tags=[],
                 body=markdown.plain_text(post.body), url=post.get_absolute_url(),
                 is_public=not (post.is_hidden or post.thread.is_hidden))
