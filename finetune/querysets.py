"""Reads for fine-tuning jobs."""
from __future__ import annotations

from django.db import models


class FineTuneQuerySet(models.QuerySet):
    def owned_by(self, user) -> "FineTuneQuerySet":
        """What a member may open by id: their own jobs."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(user=user)

    def visible_to(self, user) -> "FineTuneQuerySet":
        """Moderators see every job (to stop abuse of the training workers); members their own."""
        if user.is_authenticated and user.is_staff:
            return self.all()
        return self.owned_by(user)

    def for_list(self) -> "FineTuneQuerySet":
        return self.select_related("user", "base_model", "dataset", "output_model")
