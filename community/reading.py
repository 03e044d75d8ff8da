"""Read state: how far each member has read each thread they opened."""
from __future__ import annotations

from .models import Thread, ThreadRead, User


def mark_read(*, user: User, thread: Thread, position: int) -> None:
    """`user` has seen `thread` up to post `position`; it never goes back (an older page read
    again leaves it). One UPDATE when the row exists; the first read inserts it, and a reader who
    raced us to it is settled by the update that follows."""
    mine = ThreadRead.objects.filter(user=user, thread=thread)
    if mine.filter(last_position__lt=position).update(last_position=position) or mine.exists():
        return
    ThreadRead.objects.bulk_create([ThreadRead(user=user, thread=thread, last_position=position)],
                                   ignore_conflicts=True)
    mine.filter(last_position__lt=position).update(last_position=position)
