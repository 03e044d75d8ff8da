"""Read state: how far each member has read each thread they opened."""
from __future__ import annotations

import logging

from django.db import DatabaseError

from .models import Thread, ThreadRead, User

log = logging.getLogger(__name__)


def mark_read(*, user: User, thread: Thread, position: int, known: int | None) -> None:
    """`user` has seen `thread` up to post `position`; `known` is where the thread's query found
    them (None: never read). Nothing is written unless they read further, and it never goes back.
    Keeping it is a nicety: a database that refuses the write (read-only, locked) costs the page
    nothing."""
    if known is not None and known >= position:
        return
    try:
        if known is None:
            ThreadRead.objects.bulk_create([ThreadRead(user=user, thread=thread, last_position=position)],
                                           ignore_conflicts=True)
        # A reader who raced us to the row (another tab) is settled here.
        ThreadRead.objects.filter(user=user, thread=thread, last_position__lt=position).update(last_position=position)
    except DatabaseError:
        log.warning("could not keep how far member %s read thread %s", user.pk, thread.pk, exc_info=True)
