"""An evaluation suite: what a dataset repository declares (eval.yaml or its card's `eval:` key),
as last read at a revision. The declaration itself lives in the repository; this row is the
catalogue's view of it, so leaderboards can list suites without reading files."""
from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils import timezone

from ..querysets import SuiteQuerySet


class Suite(models.Model):
    dataset = models.OneToOneField("models_hub.Resource", on_delete=models.CASCADE, related_name="evaluation_suite")
    title = models.CharField(max_length=200)
    revision = models.CharField(max_length=40)  # the commit the declaration was read at
    spec = models.JSONField(default=dict, blank=True)  # suite_spec.SuiteSpec.as_dict(); {} when invalid
    error = models.JSONField(default=dict, blank=True)  # {field: [message]} when the declaration is invalid
    updated_at = models.DateTimeField(default=timezone.now)

    objects = SuiteQuerySet.as_manager()

    class Meta:
        ordering = ["dataset__owner", "dataset__name"]

    def __str__(self) -> str:
        return f"suite {self.dataset.repo_id}"

    @property
    def repo_id(self) -> str:
        return self.dataset.repo_id

    @property
    def is_valid(self) -> bool:
        return bool(self.spec) and not self.error

    @property
    def task_names(self) -> list[str]:
        return [task["name"] for task in self.spec.get("tasks", [])]

    def get_absolute_url(self) -> str:
        return reverse("evaluation:leaderboard", args=[self.dataset.owner, self.dataset.name])
