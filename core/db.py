"""Database work from async code that lives long (an event stream, a /v1/ request waiting for its
jobs): each piece gives its connection back as soon as it is done.

Django gives a request's connection back when the request ends. A stream lasts as long as its job,
minutes, so every open stream held one of its web process's pooled connections (20 by default):
once they were all held, every other request of that process waited out the pool's timeout and
failed with a 500."""
from __future__ import annotations

from typing import Callable, TypeVar

from asgiref.sync import sync_to_async
from django.db import connections

T = TypeVar("T")


async def released(work: Callable[[], T]) -> T:
    """`work()` (ORM calls) on the request's thread; then its connection goes back (to the pool,
    or closed, unless DATABASE_CONN_MAX_AGE keeps it)."""
    def run() -> T:
        try:
            return work()
        finally:
            _give_back()

    return await sync_to_async(run)()


async def release_connection() -> None:
    """Give back the connection the request has used so far, before a long wait."""
    await sync_to_async(_give_back)()


def _give_back() -> None:
    """Django's close_old_connections (what it does when a request ends), except for a connection
    inside a transaction: that one cannot go back yet (the test client's requests run in the test's)."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()
