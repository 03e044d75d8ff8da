"""Per-member quotas on long jobs (generations, evaluation runs, training runs): how many may be
active at once and how many may start in a sliding window, checked in one query under a lock on
the member's row, so that concurrent submits cannot both slip under a cap."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from .exceptions import RateLimited


def _units(where: Q, group: str | None):
    """Jobs counted as the quota counts them: with `group`, the jobs of one group count once."""
    if group is None:
        return Count("pk", filter=where)
    return Count("pk", filter=where & Q(**{f"{group}__isnull": True})) + Count(group, filter=where, distinct=True)


@dataclass(frozen=True)
class Usage:
    """Where a member stands against a quota: jobs active and started within the window, the
    caps, and when the oldest started within the window leaves it (None: none did)."""

    active: int
    max_active: int
    recent: int
    max_in_window: int
    frees_at: datetime | None

    @property
    def remaining(self) -> int:
        return max(0, self.max_in_window - self.recent)


def usage(*, jobs: QuerySet, max_active: int, window: timedelta, max_in_window: int,
          group: str | None = None, deleted: QuerySet | None = None) -> Usage:
    """The member's `jobs` (their rows of one kind) counted as `enforce` counts them, in one query;
    `deleted`: rows (with a `created_at`) that each stand for one deleted unit, still counted."""
    status = jobs.model.Status
    now = timezone.now()
    recent = Q(created_at__gte=now - window)
    counts = jobs.aggregate(active=_units(Q(status__in=[status.QUEUED, status.RUNNING]), group),
                            recent=_units(recent, group), oldest=Min("created_at", filter=recent))
    if deleted is not None:
        gone = deleted.filter(recent).aggregate(n=Count("pk"), oldest=Min("created_at"))
        counts["recent"] += gone["n"]
        counts["oldest"] = min(filter(None, (counts["oldest"], gone["oldest"])), default=None)
    frees_at = counts["oldest"] + window if counts["oldest"] else None
    return Usage(active=counts["active"], max_active=max_active, recent=counts["recent"],
                 max_in_window=max_in_window, frees_at=frees_at)


def enforce(*, user, jobs: QuerySet, max_active: int, active_retry_s: float, window: timedelta, max_in_window: int,
            group: str | None = None, deleted: QuerySet | None = None) -> None:
    """Raise RateLimited when the member's `jobs` hold `max_active` queued or running, or
    `max_in_window` created within `window` (retry when the oldest of those leaves it). Call inside
    the transaction that writes the new rows."""
    get_user_model().objects.select_for_update(no_key=True).filter(pk=user.pk).first()  # serialise their submits
    now = timezone.now()
    counts = usage(jobs=jobs, max_active=max_active, window=window, max_in_window=max_in_window, group=group,
                   deleted=deleted)
    if counts.active >= max_active:
        raise RateLimited(retry_after=active_retry_s)
    if counts.recent >= max_in_window:  # with a cap of 0 there is no oldest: a whole window
        raise RateLimited(retry_after=((counts.frees_at or now + window) - now).total_seconds())
