"""Read state: how far each member has read each thread they opened."""
from __future__ import annotations

import logging
import re

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Greatest

from .models import Thread, ThreadRead, User

log = logging.getLogger(__name__)
# What crawlers and link previews put in their User-Agent: their fetches are not readers.
CRAWLER = re.compile(r"bot|crawl|spider|slurp|preview|fetch|monitor|curl|wget|python-requests|headless", re.I)


def count_view(*, thread: Thread, viewer: str, user_agent: str) -> None:
    """One more view of `thread`, unless `viewer` (a member, or an address: core.slots.client_id)
    was counted within FORUM_VIEW_WINDOW_S or is a crawler. Like the read state, a nicety: a
    cache or database that fails costs the page nothing (and a cache that is down counts none)."""
    if not user_agent or CRAWLER.search(user_agent):  # browsers always name themselves
        return
    try:
        if cache.add(f"thread-view:{thread.pk}:{viewer}", 1, timeout=settings.FORUM_VIEW_WINDOW_S):
            Thread.objects.filter(pk=thread.pk).update(view_count=F("view_count") + 1)
    except DatabaseError:
        log.warning("could not count a view of thread %s", thread.pk, exc_info=True)


def mark_read(*, user: User, thread: Thread, position: int, known: int | None) -> None:
    """`user` has seen `thread` up to post `position`; `known` is where the thread's query found
    them (None: never read). Nothing is written unless they read further, and it never goes back.
    Keeping it is a nicety: a database that refuses the write (read-only, locked) costs the page
    nothing."""
    if known is not None and known >= position:
        return
    try:
        read_up_to(user=user, thread=thread, position=position, new=known is None)
    except DatabaseError:
        log.warning("could not keep how far member %s read thread %s", user.pk, thread.pk, exc_info=True)


def read_up_to(*, user: User, thread: Thread, position: int, new: bool = True) -> None:
    """`user` has read `thread` up to post `position` (further than before, if at all): as a
    reader, or as the writer of that post, who has read what they wrote (`new`: no row may
    exist yet)."""
    if new:
        ThreadRead.objects.bulk_create([ThreadRead(user=user, thread=thread, last_position=position)],
                                       ignore_conflicts=True)
    # A reader who raced us to the row (another tab) is settled here.
    ThreadRead.objects.filter(user=user, thread=thread, last_position__lt=position).update(last_position=position)


DISMISS_MAX = 1000  # threads one Dismiss marks read; a longer list takes another click


def dismiss(*, user: User, tab: str, category=None) -> int:
    """Discourse's Dismiss: every thread on the member's New or Unread list (`tab`), in
    `category` if given, counts as read to its last post. Returns how many threads."""
    threads = Thread.objects.visible_to(user)
    if category is not None:
        threads = threads.filter(category=category)
    listed = threads.new_for(user) if tab == "new" else threads.unread_by(user)
    positions = dict(listed.order_by().values_list("pk", "highest_position")[:DISMISS_MAX])
    ThreadRead.objects.bulk_create([ThreadRead(user=user, thread_id=pk, last_position=position)
                                    for pk, position in positions.items()], ignore_conflicts=True)
    highest = Thread.objects.filter(pk=OuterRef("thread_id")).values("highest_position")[:1]
    ThreadRead.objects.filter(user=user, thread_id__in=positions).update(
        last_position=Greatest(F("last_position"), Subquery(highest)))
    return len(positions)
