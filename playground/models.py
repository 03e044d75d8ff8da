"""A generation job: the row is the source of truth for its status; Celery is only transport."""
from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .querysets import JobQuerySet


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    SUCCEEDED = "succeeded", _("succeeded")
    FAILED = "failed", _("failed")
    CANCELLED = "cancelled", _("cancelled")


class JobMode(models.TextChoices):
    CHAT = "chat", _("Chat")
    COMPLETION = "completion", _("Completion")


class MessageRole(models.TextChoices):
    SYSTEM = "system", _("system")
    USER = "user", _("user")
    ASSISTANT = "assistant", _("assistant")


class JobSource(models.TextChoices):
    """Which door a job came through."""

    WEB = "web", _("playground page")
    API = "api", _("REST API")
    OPENAI = "openai", _("OpenAI-compatible API")


class FinishReason(models.TextChoices):
    STOP = "stop", _("stop")
    LENGTH = "length", _("length")
    CANCELLED = "cancelled", _("cancelled")
    TIMEOUT = "timeout", _("timed out")


class JobErrorCode(models.TextChoices):
    """Why a job failed, where the request itself was at fault: the OpenAI-compatible API answers
    these with a 400 (a client retries a 5xx, and would only fail again). Blank: the server's fault."""

    CONTEXT_LENGTH = "context_length_exceeded", _("The prompt and its new tokens exceed the model's context.")
    INVALID_PROMPT = "invalid_prompt", _("The prompt cannot be run on this model.")
    REJECTED = "rejected_by_model_server", _("The model server refused the request.")


SHARE_TOKEN_BYTES = 16  # 128 random bits: not guessable, unlike the sequential ids
SHARE_TOKEN_MAX_LENGTH = 32


def new_share_token() -> str:
    return secrets.token_urlsafe(SHARE_TOKEN_BYTES)


class GenerationJob(models.Model):
    Status = JobStatus
    Mode = JobMode
    Source = JobSource
    FinishReason = FinishReason
    ErrorCode = JobErrorCode

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs")
    # PROTECT: deleting a catalogue entry must never silently delete members' runs with it.
    resource = models.ForeignKey("models_hub.Resource", on_delete=models.PROTECT, related_name="jobs")
    mode = models.CharField(max_length=10, choices=Mode.choices)
    messages = models.JSONField(default=list, blank=True)
    prompt = models.TextField(blank=True)
    # A completion prompt sent as token ids (/v1/completions takes them, as evaluation tools send
    # them); `prompt` then gets their text once the job has run.
    prompt_ids = models.JSONField(null=True, blank=True)
    params = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED,
                              db_index=True)
    output = models.TextField(blank=True)
    error = models.TextField(blank=True)
    error_code = models.CharField(max_length=32, choices=JobErrorCode.choices, blank=True)
    finish_reason = models.CharField(max_length=10, choices=FinishReason.choices, blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    ttft_ms = models.FloatField(null=True, blank=True)
    tokens_per_s = models.FloatField(null=True, blank=True)
    # With params.logprobs: {"content": [{token, logprob, bytes, top_logprobs}] for the output's
    # tokens, "prompt": the same for the prompt's tokens with params.echo (the first one's
    # logprob null), else null}. Set when the job finishes.
    logprobs = models.JSONField(null=True, blank=True)
    # Jobs made by one request with several prompts (/v1/completions): they count as one against
    # the member's quotas, and finish together.
    request_group = models.UUIDField(null=True, blank=True, editable=False, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # When its task was last sent to the queue again (the reaper, a hand-back); null when sent once
    # (at its creation).
    dispatched_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)
    cancel_requested = models.BooleanField(default=False)
    is_public = models.BooleanField(default=False)
    # The secret in the public link (/playground/s/<token>/). Set when the run is shared, cleared
    # when it is made private, so every re-share gets a new one and old links stop working.
    share_token = models.CharField(max_length=SHARE_TOKEN_MAX_LENGTH, unique=True, null=True, blank=True,
                                   editable=False)
    source = models.CharField(max_length=10, choices=JobSource.choices, default=JobSource.API)
    # The model's name is withheld from the owner (a blind arena battle): a sealed job is read
    # only through whatever sealed it, never by id through the playground, until it is unsealed.
    sealed = models.BooleanField(default=False)
    # Kept by what cites it (an arena battle's answer, and its vote with it): its owner cannot
    # delete it from the playground.
    kept = models.BooleanField(default=False)
    thread = models.ForeignKey("community.Thread", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")

    objects = JobQuerySet.as_manager()

    # What a job is asked at its submit and keeps; everything else (its status, its result, its
    # sharing) may change after, and is what `refresh_changing()` reads again.
    FIXED_AT_SUBMIT = ("id", "user", "resource", "mode", "messages", "prompt_ids", "params", "created_at",
                       "source", "request_group")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=JobStatus.values),
                name="job_status_valid",
            ),
            models.CheckConstraint(condition=Q(mode__in=JobMode.values),
                                   name="job_mode_valid"),
            models.CheckConstraint(condition=Q(is_public=False) | Q(share_token__isnull=False),
                                   name="job_public_has_share_token"),
        ]

    def __str__(self) -> str:
        return f"job {self.pk} ({self.status})"

    def save(self, *args, **kwargs):
        if self.is_public and not self.share_token:  # a public run always has its link
            self.share_token = new_share_token()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "share_token"}
        super().save(*args, **kwargs)

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def asked(self) -> str:
        """What the member asked: a chat's last message of theirs, or the completion's prompt."""
        if self.mode != JobMode.CHAT:
            return self.prompt
        said = [m.get("content") for m in self.messages or [] if isinstance(m, dict) and m.get("role") == "user"]
        return said[-1] if said and isinstance(said[-1], str) else ""

    def refresh_changing(self) -> None:
        """Read again what may have changed since the submit: one row without the columns fixed
        at it (the messages, the parameters), and no join (the resource loaded with the job stays)."""
        self.refresh_from_db(fields=[field.attname for field in self._meta.concrete_fields
                                     if field.name not in self.FIXED_AT_SUBMIT])

    def get_absolute_url(self) -> str:
        """The owner's page for the run (by id: only the owner may open it)."""
        return reverse("playground:run", args=[self.pk])

    def get_share_url(self) -> str | None:
        """The public link, for anyone who has it; None while the run is private."""
        if not (self.is_public and self.share_token):
            return None
        return reverse("playground:shared", args=[self.share_token])


REPORT_REASON_MAX_LENGTH = 500


class ReviewDecision(models.TextChoices):
    """What a moderator decides about a reported run."""

    KEEP_PUBLIC = "keep_public", _("Keep public")
    MAKE_PRIVATE = "make_private", _("Make private")


class RunReport(models.Model):
    """A member asks moderators to look at a shared run (as forum posts are flagged)."""

    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="run_reports")
    job = models.ForeignKey(GenerationJob, on_delete=models.CASCADE, related_name="reports")
    reason = models.CharField(_("reason"), max_length=REPORT_REASON_MAX_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)
    resolved = models.BooleanField(default=False)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["reporter", "job"], name="one_report_per_member_and_run"),
        ]
        indexes = [models.Index(fields=["job"], condition=Q(resolved=False), name="run_report_unresolved")]

    def __str__(self) -> str:
        return f"report {self.pk} on job {self.job_id}"


class DeletedRun(models.Model):
    """A deleted run's place in its member's hourly quota until its hour is over: deleting what
    one ran must not free room to run more (OpenAI's usage does not shrink when a response is
    deleted either). Its prompt and answer are gone; only when it started is kept."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "created_at"])]
