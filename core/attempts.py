"""An attempt at a long job (a generation, an evaluation, a training run), and its fence.

A worker claims a job's row: the row becomes `running` and its `attempts` count goes up by one.
That attempt holds the row while the row is still running under its number. The reaper takes a
worker for dead when its heartbeats stop reaching the database (an outage longer than the stale
window, a frozen process) and queues the job again, and another worker may claim it while the
first one still works. So every write an attempt makes goes through `held()`: a superseded
attempt changes nothing (not the row's text, its end, a published model, the other attempt's
files), learns that it was superseded, stops, and writes nothing more to the job's log (whose
appends are fenced by the attempt's number too: see core.eventlog).
"""
from __future__ import annotations

from django.db.models import Model, QuerySet
from django.utils import timezone

from .exceptions import without_server_paths


def held(row: Model) -> QuerySet:
    """The job's row while this attempt (the row as its worker claimed it) still holds it."""
    model = type(row)
    return model.objects.filter(pk=row.pk, status=model.Status.RUNNING, attempts=row.attempts)


def finish(row: Model, *, status: str, **fields) -> str | None:
    """Record how the attempt ended: returns `status`, or None when the attempt no longer held the
    row (the reaper ended the job or queued it again; another attempt may hold it now) and nothing
    was written. The reaper writes the log's final event for a job it ends itself. An `error` is
    stored without the server's paths (members see it)."""
    if fields.get("error"):
        fields["error"] = without_server_paths(fields["error"])
    if held(row).update(status=status, finished_at=timezone.now(), **fields):
        return status
    return None
