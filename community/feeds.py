"""RSS feeds of what anyone may read, as Discourse offers them: the forum's newest threads
(/forum/latest.rss), a category's (/forum/c/<slug>.rss), a tag's (/forum/tag/<name>.rss) and a
thread's newest replies (/forum/t/<id>.rss). A feed reader is nobody: hidden threads and posts
never show, whoever asks. Each item carries its post as stored (rendered and sanitised once)."""
from __future__ import annotations

import re

from django.contrib.auth.models import AnonymousUser
from django.contrib.syndication.views import Feed
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Rss201rev2Feed
from django.utils.translation import gettext as _

from core.models import Tag

from .models import Category, Post, Thread

ITEMS = 30
NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")  # no XML 1.0 document holds these


def _xml_safe(value):
    """Text without what XML 1.0 cannot hold (a control character a member pasted, a terminal's
    colour code), each as U+FFFD: Django's feed writer refuses one with an error, a 500 for the
    whole feed."""
    if isinstance(value, str):
        return NOT_XML.sub("\ufffd", value)
    if isinstance(value, (list, tuple)):
        return [_xml_safe(item) for item in value]
    return value


class SafeRss(Rss201rev2Feed):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **{name: _xml_safe(value) for name, value in kwargs.items()})

    def add_item(self, *args, **kwargs):
        super().add_item(*args, **{name: _xml_safe(value) for name, value in kwargs.items()})


class _Feed(Feed):
    """Items (threads or posts) linked to their pages, dated and signed by their authors."""

    feed_type = SafeRss
    item_guid_is_permalink = False
    guid_prefix = ""

    def item_guid(self, item) -> str:
        return f"{self.guid_prefix}-{item.pk}"

    def item_pubdate(self, item):
        return item.created_at

    def item_author_name(self, item) -> str:
        return item.author.shown_name


class _ThreadFeed(_Feed):
    """Threads newest first, each described by its opening post."""

    guid_prefix = "thread"

    def threads(self, obj):
        return Thread.objects.visible_to(AnonymousUser())

    def items(self, obj):
        opening = Post.objects.public().filter(position=1)
        return (self.threads(obj).select_related("author", "category")
                .prefetch_related(Prefetch("posts", queryset=opening, to_attr="opening"))
                .order_by("-created_at", "-id")[:ITEMS])

    def item_title(self, thread: Thread) -> str:
        return thread.title

    def item_description(self, thread: Thread) -> str:
        return thread.opening[0].body_html if thread.opening else ""

    def item_categories(self, thread: Thread) -> list[str]:
        return [thread.category.local_name]


class LatestThreads(_ThreadFeed):
    def title(self) -> str:
        return _("LLM Community: latest threads")

    def link(self) -> str:
        return reverse("community:index")

    def description(self) -> str:
        return _("New threads in every category of the forum.")


class CategoryThreads(_ThreadFeed):
    def get_object(self, request, slug: str) -> Category:
        return get_object_or_404(Category, slug=slug)

    def threads(self, category: Category):
        return super().threads(category).filter(category=category)

    def title(self, category: Category) -> str:
        return _("LLM Community: %(category)s") % {"category": category.local_name}

    def link(self, category: Category) -> str:
        return category.get_absolute_url()

    def description(self, category: Category) -> str:
        return category.local_description or _("New threads in %(category)s.") % {"category": category.local_name}


class TagThreads(_ThreadFeed):
    def get_object(self, request, name: str) -> Tag:
        return get_object_or_404(Tag, name=name)

    def threads(self, tag: Tag):
        return super().threads(tag).filter(tags=tag)

    def title(self, tag: Tag) -> str:
        return _("LLM Community: threads tagged %(tag)s") % {"tag": tag.name}

    def link(self, tag: Tag) -> str:
        return reverse("community:tag", args=[tag.name])

    def description(self, tag: Tag) -> str:
        return _("New threads tagged %(tag)s.") % {"tag": tag.name}


class ThreadPosts(_Feed):
    """A thread's newest posts, its opening post included when it is among them."""

    guid_prefix = "post"

    def get_object(self, request, pk: int) -> Thread:
        thread = Thread.objects.visible_to(AnonymousUser()).filter(pk=pk).first()
        if thread is None:
            raise Http404
        return thread

    def items(self, thread: Thread):
        return (thread.posts.public().select_related("author", "thread")
                .order_by("-position")[:ITEMS])

    def title(self, thread: Thread) -> str:
        return thread.title

    def link(self, thread: Thread) -> str:
        return thread.get_absolute_url()

    def description(self, thread: Thread) -> str:
        return _("The newest posts in %(title)s.") % {"title": thread.title}

    def item_title(self, post: Post) -> str:
        return _("#%(position)d by %(author)s") % {"position": post.position, "author": post.author.shown_name}

    def item_description(self, post: Post) -> str:
        return post.body_html
