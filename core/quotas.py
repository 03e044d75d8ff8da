"""Per-member quotas on long jobs (generations, evaluation runs, training runs): how many may be
active at once and how many may start in a sliding window, checked in one query under a lock on
the member's row, so that concurrent submits cannot both slip under a cap."""
from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from .exceptions import RateLimited


def _units(where: Q, group: str | None):
    """Jobs counted as the quota counts them: with `group`, the jobs of one group count once."""
    if group is None:
        return Count("pk", filter=where)
    return Count("pk", filter=where & Q(**{f"{group}__isnull": True})) + Count(group, filter=where, distinct=True)


def enforce(*, user, jobs: QuerySet, max_active: int, active_retry_s: float, window: timedelta, max_in_window: int,
            group: str | None = None) -> None:
    """Raise RateLimited when the member's `jobs` (their rows of one kind) hold `max_active`
    queued or running, or `max_in_window` created within `window` (retry when the oldest of those
    leaves it). Call inside the transaction that writes the new rows."""
    get_user_model().objects.select_for_update(no_key=True).filter(pk=user.pk).first()  # serialise their submits
    status = jobs.model.Status
    now = timezone.now()
    recent = Q(created_at__gte=now - window)
    counts = jobs.aggregate(active=_units(Q(status__in=[status.QUEUED, status.RUNNING]), group),
                            recent=_units(recent, group), oldest=Min("created_at", filter=recent))
    if counts["active"] >= max_active:
        raise RateLimited(retry_after=active_retry_s)
    if counts["recent"] >= max_in_window:  # with a cap of 0 there is no oldest: a whole window
        oldest = counts["oldest"] or now
        raise RateLimited(retry_after=(oldest + window - now).total_seconds())
