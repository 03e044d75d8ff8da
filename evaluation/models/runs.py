"""An evaluation run: one model on one suite at pinned revisions, as a job on the `evaluation`
queue. The row is the source of truth for its status; Celery is only transport. Identical runs
(same model revision, suite revision and config: the same `config_hash`) are computed once."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..querysets import RunQuerySet


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    SUCCEEDED = "succeeded", _("succeeded")
    FAILED = "failed", _("failed")
    CANCELLED = "cancelled", _("cancelled")


# A config is computed once: while it is queued or running, and once it has succeeded.
HOLDS_CONFIG = (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.SUCCEEDED)


class EvaluationRun(models.Model):
    Status = RunStatus
    FINISHED = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)
    HOLDS_CONFIG = HOLDS_CONFIG

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="evaluation_runs")
    # PROTECT: deleting a catalogue entry must never silently delete the results measured on it.
    model = models.ForeignKey("models_hub.Resource", on_delete=models.PROTECT, related_name="evaluation_runs")
    suite = models.ForeignKey("evaluation.Suite", on_delete=models.PROTECT, related_name="runs")
    dataset_revision = models.CharField(max_length=40)
    model_revision = models.CharField(max_length=64)
    suite_spec = models.JSONField(default=dict)  # the declaration as run (the repository may change)
    config = models.JSONField(default=dict)
    config_hash = models.CharField(max_length=64, db_index=True)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED, db_index=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    metrics = models.JSONField(default=dict, blank=True)  # {task: {metric: value, metric_stderr: value}}
    versions = models.JSONField(default=dict, blank=True)  # lm_eval, sacrebleu, transformers, torch
    error = models.TextField(blank=True)
    tokens = models.PositiveBigIntegerField(default=0)  # tokens scored and generated
    duration_s = models.FloatField(null=True, blank=True)  # the evaluation itself, model loading excluded
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)
    cancel_requested = models.BooleanField(default=False)
    thread = models.ForeignKey("community.Thread", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")

    objects = RunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"]),
                   models.Index(fields=["suite", "status"])]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=RunStatus.values), name="evaluation_run_status_valid"),
            models.UniqueConstraint(fields=["config_hash"], condition=Q(status__in=[str(s) for s in HOLDS_CONFIG]),
                                    name="evaluation_run_once_per_config"),
            models.CheckConstraint(condition=Q(progress_done__lte=models.F("progress_total")),
                                   name="evaluation_run_progress_bounded"),
        ]

    def __str__(self) -> str:
        return f"evaluation {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def progress(self) -> dict:
        return {"done": self.progress_done, "total": self.progress_total}

    def get_absolute_url(self) -> str:
        return reverse("evaluation:run", args=[self.pk])


class EvaluationSample(models.Model):
    """One example as the model saw it: its prompt, the model's answer, the reference, scores."""

    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="samples")
    task = models.CharField(max_length=48)
    index = models.PositiveIntegerField()
    input = models.TextField()
    prediction = models.TextField(blank=True)
    reference = models.TextField(blank=True)
    score = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["run", "task", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "task", "index"], name="evaluation_sample_once")]

    def __str__(self) -> str:
        return f"{self.task}#{self.index}"
