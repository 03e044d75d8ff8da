"""Reads for generation jobs."""
from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone


_TOTALS = {"jobs": Count("pk"), "prompt_tokens": Coalesce(Sum("prompt_tokens"), 0),
           "completion_tokens": Coalesce(Sum("completion_tokens"), 0)}


class JobQuerySet(models.QuerySet):
    def owned_by(self, user) -> "JobQuerySet":
        """What may be opened by id: only a member's own unsealed jobs (ids are sequential, so a
        public flag must never open a run by id; shared runs are opened by their token)."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(user=user, sealed=False)  # a sealed job would name its hidden model

    def shared(self, token: str) -> "JobQuerySet":
        """The public run behind a share link, if it is still shared."""
        if not token:
            return self.none()
        return self.filter(share_token=token, is_public=True)

    def with_open_reports(self) -> "JobQuerySet":
        """Runs with unresolved reports, the most reported first (the moderators' queue)."""
        open_reports = Q(reports__resolved=False)
        return (self.filter(open_reports)
                .annotate(open_report_count=Count("reports", filter=open_reports),
                          last_reported_at=Max("reports__created_at", filter=open_reports))
                .order_by("-open_report_count", "-last_reported_at", "-id"))

    def usage(self, user, *, days: int) -> "JobQuerySet":
        """A member's jobs of the last `days` days (from midnight, in the current time zone)."""
        since = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days - 1)
        return self.filter(user=user, created_at__gte=since)

    def total(self) -> dict:
        """How many jobs, and their prompt and completion tokens."""
        return self.aggregate(**_TOTALS)

    def totals(self, *by: str):
        """Rows of `total()`, grouped by these fields."""
        return self.values(*by).annotate(**_TOTALS).order_by(*by)

    def by_day(self):
        """Totals per day, newest first, for days with jobs."""
        return self.annotate(day=TruncDate("created_at")).totals("day").order_by("-day")

    def by_model(self):
        """Totals per model, the most used first."""
        return self.totals("resource__kind", "resource__owner", "resource__name").order_by(
            "-jobs", "resource__owner", "resource__name")
