"""A fine-tuning job: the row is the source of truth for its status and progress; Celery is
only transport, and the event log carries progress to readers and `cancel` to the worker."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .querysets import FineTuneQuerySet


class Status(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    SUCCEEDED = "succeeded", _("succeeded")
    FAILED = "failed", _("failed")
    CANCELLED = "cancelled", _("cancelled")


class Method(models.TextChoices):
    LORA = "lora", _("LoRA")


class TrainFormat(models.TextChoices):
    """How a dataset's rows become training examples (declared by its card's `train_format`)."""

    MESSAGES = "messages", _("chat messages")
    PROMPT_COMPLETION = "prompt_completion", _("prompt and completion")
    TEXT = "text", _("plain text")


ACTIVE = (Status.QUEUED, Status.RUNNING)
FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)


class FineTuneJob(models.Model):
    Status = Status
    Method = Method
    FINISHED = FINISHED

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="finetunes")
    # PROTECT: a catalogue entry cannot be deleted from under members' training runs.
    base_model = models.ForeignKey("models_hub.Resource", on_delete=models.PROTECT, related_name="finetunes_of")
    dataset = models.ForeignKey("models_hub.Resource", on_delete=models.PROTECT, related_name="finetunes_on")
    dataset_revision = models.CharField(max_length=40)  # the commit trained on, pinned at submit
    train_spec = models.JSONField(default=dict)  # the card's declaration, as validated at submit
    method = models.CharField(max_length=10, choices=Method.choices, default=Method.LORA)
    params = models.JSONField(default=dict)
    output_name = models.CharField(max_length=100)
    output_model = models.OneToOneField("models_hub.Resource", null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="finetune_job")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    error = models.TextField(blank=True)
    # Progress, as the worker last reported it (the event log has every step).
    step = models.PositiveIntegerField(default=0)
    total_steps = models.PositiveIntegerField(default=0)
    epoch = models.FloatField(null=True, blank=True)
    loss = models.FloatField(null=True, blank=True)
    learning_rate = models.FloatField(null=True, blank=True)
    examples_per_s = models.FloatField(null=True, blank=True)
    tokens_per_s = models.FloatField(null=True, blank=True)
    eta_s = models.FloatField(null=True, blank=True)
    # Of the last attempt's trainer.train(): tokens trained and seconds taken (the card, the benchmark).
    trained_tokens = models.PositiveBigIntegerField(null=True, blank=True)
    train_seconds = models.FloatField(null=True, blank=True)
    history = models.JSONField(default=list, blank=True)  # [{step, loss, lr}] for the curves
    checkpoint_step = models.PositiveIntegerField(default=0)  # the newest durable checkpoint
    versions = models.JSONField(default=dict, blank=True)  # libraries that trained it
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)
    cancel_requested = models.BooleanField(default=False)

    objects = FineTuneQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="finetune_user_recent")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=Status.values), name="finetune_status_valid"),
            models.CheckConstraint(condition=Q(method__in=Method.values), name="finetune_method_valid"),
            models.CheckConstraint(condition=Q(step__lte=models.F("total_steps")) | Q(total_steps=0),
                                   name="finetune_step_within_total"),
            # One live or finished output per name: a failed or cancelled run frees its name.
            models.UniqueConstraint(fields=["user", "output_name"],
                                    condition=Q(status__in=["queued", "running", "succeeded"]),
                                    name="finetune_output_name_once"),
        ]

    def __str__(self) -> str:
        return f"fine-tune {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def output_repo_id(self) -> str:
        """The model the job made, or will make (a name its member took meanwhile gets a suffix)."""
        if self.output_model_id is not None:
            return self.output_model.repo_id
        return f"{self.user.username}/{self.output_name}"

    def get_absolute_url(self) -> str:
        return reverse("finetune:detail", args=[self.pk])
