"""The event log's writes where no Redis holds it (embedded mode): numbered rows of `LogEvent`,
fenced by attempt (core.attempts) as the Redis log is (core.eventlog): the stream's row numbered 0,
which no reader reads, holds its owner, the highest attempt number that has written, started or
taken it over. A lower number's append, reset or take-over is refused; an equal one passes.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable, TypeVar

from django.db import IntegrityError, transaction
from django.db.models import Max

from .models import LogEvent

OWNER_SEQ = 0  # the owner's row; events are numbered from 1
OWNER_KIND = "owner"
T = TypeVar("T")


def _owned(stream: str, owner: int | None) -> bool:
    """Inside a transaction: whether `owner` may write the stream (None: any writer may), noting
    it as the owner when it is the highest yet."""
    if owner is None:
        return True
    row = LogEvent.objects.select_for_update().filter(stream=stream, seq=OWNER_SEQ).first()
    if row is None:
        LogEvent.objects.create(stream=stream, seq=OWNER_SEQ, kind=OWNER_KIND, data={"attempt": owner})
        return True
    current = row.data.get("attempt", 0)
    if current > owner:
        return False
    if owner > current:
        LogEvent.objects.filter(pk=row.pk).update(data={"attempt": owner})
    return True


def _retried(write: Callable[[], T]) -> T:
    """`write` in a transaction, again whenever it lost a race to another writer: the unique
    (stream, seq) constraint settles two writers taking the same number, or both noting
    themselves as the stream's first owner."""
    while True:
        try:
            with transaction.atomic():
                return write()
        except IntegrityError:
            continue


def append(stream: str, kind: str, data: dict | None = None, *, owner: int | None = None) -> int:
    """The event's sequence number, or 0 when a later attempt than `owner` owns the stream."""
    def write() -> int:
        if not _owned(stream, owner):
            return 0
        seq = (LogEvent.objects.filter(stream=stream).aggregate(n=Max("seq"))["n"] or 0) + 1
        LogEvent.objects.create(stream=stream, seq=seq, kind=kind, data=data or {})
        return seq
    return _retried(write)


def reset(stream: str, *, owner: int | None = None) -> bool:
    """Drop the stream's events (with `owner`, it is that attempt's from now on); False when a
    later attempt owns it (nothing changed)."""
    def write() -> bool:
        if not _owned(stream, owner):
            return False
        events = LogEvent.objects.filter(stream=stream)
        (events.exclude(seq=OWNER_SEQ) if owner is not None else events).delete()
        return True
    return _retried(write)


def take_over(stream: str, *, owner: int) -> bool:
    """The stream is `owner`'s from now on, its events kept; False when a later attempt owns it."""
    return _retried(lambda: _owned(stream, owner))


def kinds_after(stream: str, seq: int) -> list[tuple[int, str]]:
    """(seq, kind) of the stream's events after `seq`, in order."""
    return list(LogEvent.objects.filter(stream=stream, seq__gt=seq).order_by("seq").values_list("seq", "kind"))


def prune(*, finished_before: datetime, final: tuple[str, ...]) -> int:
    """Drop the streams whose final event came before `finished_before` (as Redis expires its logs
    after their latest event). Returns how many rows went."""
    ended = LogEvent.objects.filter(kind__in=final, created_at__lt=finished_before).values("stream")
    deleted, _rows = LogEvent.objects.filter(stream__in=ended).delete()
    return deleted
