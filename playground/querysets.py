"""Reads for generation jobs."""
from __future__ import annotations

from django.db import models
from django.db.models import Count, Max, Q


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
