"""Named locks for read-then-write checks that no single row guards (a member's count of votes
in a day, the bytes of one blob): held until the transaction ends."""
from __future__ import annotations

from django.db import connection


def hold(name: str) -> None:
    """Inside a transaction: wait for, then hold until it ends, the lock called `name`
    (PostgreSQL: an advisory lock on the name's hash; SQLite's writes are serial already)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [name])
