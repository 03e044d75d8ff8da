"""Reads for generation jobs."""
from __future__ import annotations

from django.db import models
from django.db.models import Q


class JobQuerySet(models.QuerySet):
    def active(self) -> "JobQuerySet":
        status = self.model.Status
        return self.filter(status__in=[status.QUEUED, status.RUNNING])

    def visible_to(self, user) -> "JobQuerySet":
        """A member's own jobs and public ones."""
        if user.is_authenticated:
            return self.filter(Q(user=user) | Q(is_public=True))
        return self.filter(is_public=True)
