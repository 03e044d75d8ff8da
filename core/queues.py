"""Queueing a long job (a generation, an evaluation run, a training run) once its row commits,
and what a submit does when the broker is down: refuse before writing, or, if the broker went
away in between, fail the row it could not queue."""
from __future__ import annotations

from typing import Callable

import redis
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from .eventlog import sync_client
from .exceptions import ServiceUnavailable


class QueueUnavailable(ServiceUnavailable):
    """The broker cannot be reached; nothing was queued."""


def check_broker() -> None:
    """Refuse a submit up front (before any row is written) when the broker is down."""
    if not settings.REDIS_URL:
        return  # the filesystem transport needs no server
    try:
        sync_client(timeout=1).ping()
    except redis.RedisError as exc:
        raise QueueUnavailable(str(exc)) from exc


def dispatch_on_commit(rows: list[models.Model], *, enqueue: Callable[[models.Model], None],
                       unavailable: str) -> None:
    """Queue the submit's rows once its transaction commits (a worker must find them). If the
    broker went away since `check_broker`, the submit fails whole: every row of it still queued
    (the ones sent before the broker went too, unless a worker has claimed them already) fails
    with `unavailable` as its error. The submit answers 503, and a client that retries must not
    find half of its first try running. Nothing raises on commit (a commit runs no callback after
    one that raises): the 503 comes from `raise_if_unqueued` once the outermost transaction has
    committed."""
    def dispatch() -> None:
        for row in rows:
            try:
                enqueue(row)
            except Exception as exc:
                model = type(row)
                model.objects.filter(pk__in=[each.pk for each in rows], status=model.Status.QUEUED).update(
                    status=model.Status.FAILED, error=unavailable, finished_at=timezone.now())
                for each in rows:
                    each.unqueued = str(exc) or type(exc).__name__
                return

    transaction.on_commit(dispatch)


def raise_if_unqueued(rows) -> None:
    """After the submit's outermost transaction (its rows' dispatch has run): QueueUnavailable
    (a 503) if any of them could not be queued."""
    for row in rows:
        if getattr(row, "unqueued", None):
            raise QueueUnavailable(row.unqueued)
