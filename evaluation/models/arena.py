"""The arena: a member's prompt answered by two models side by side, and the member's vote.

A blind battle's models are drawn at random and hidden (its jobs are sealed) until the vote;
a compare battle's models are the member's choice, shown from the start. Only blind votes that
no moderator has voided count for the Bradley–Terry leaderboard, as on LMSYS's Chatbot Arena.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from evaluation.arena.querysets import BattleQuerySet, VoteQuerySet
from playground.models import GenerationJob


class BattleMode(models.TextChoices):
    BLIND = "blind", _("blind")
    COMPARE = "compare", _("compare")


class BattleStatus(models.TextChoices):
    """Derived from the two jobs and the vote, never stored."""

    RUNNING = "running", _("answering")
    READY = "ready", _("ready for your vote")
    VOTED = "voted", _("voted")
    FAILED = "failed", _("failed")


class Winner(models.TextChoices):
    A = "a", _("A is better")
    B = "b", _("B is better")
    TIE = "tie", _("Tie")
    BOTH_BAD = "both_bad", _("Both are bad")


class Battle(models.Model):
    Mode = BattleMode
    Status = BattleStatus

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="arena_battles")
    mode = models.CharField(max_length=10, choices=BattleMode.choices, default=BattleMode.BLIND)
    prompt = models.TextField()
    # PROTECT, as for jobs: deleting a catalogue entry must not silently delete votes about it.
    model_a = models.ForeignKey("models_hub.Resource", on_delete=models.PROTECT, related_name="+")
    model_b = models.ForeignKey("models_hub.Resource", on_delete=models.PROTECT, related_name="+")
    # RESTRICT: a member deleting a run cannot take a battle's answer (and its vote) with it; the
    # battle and its jobs still go together when the member's account is deleted.
    job_a = models.OneToOneField(GenerationJob, on_delete=models.RESTRICT, related_name="+")
    job_b = models.OneToOneField(GenerationJob, on_delete=models.RESTRICT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    revealed_at = models.DateTimeField(null=True, blank=True)

    objects = BattleQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="battle_user_recent")]
        constraints = [
            models.CheckConstraint(condition=Q(mode__in=BattleMode.values), name="battle_mode_valid"),
            models.CheckConstraint(condition=~Q(model_a=F("model_b")), name="battle_two_models"),
            models.CheckConstraint(condition=~Q(job_a=F("job_b")), name="battle_two_jobs"),
        ]

    def __str__(self) -> str:
        return f"battle {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("arena:battle", args=[self.pk])

    @property
    def status(self) -> str:
        jobs = (self.job_a, self.job_b)
        if any(job.status in (GenerationJob.Status.FAILED, GenerationJob.Status.CANCELLED) for job in jobs):
            return BattleStatus.FAILED
        if all(job.status == GenerationJob.Status.SUCCEEDED for job in jobs):
            return BattleStatus.VOTED if self.has_vote else BattleStatus.READY
        return BattleStatus.RUNNING

    @property
    def has_vote(self) -> bool:
        return hasattr(self, "vote")

    @property
    def is_revealed(self) -> bool:
        """Whether its models may be named to its owner: a compare battle always, a blind one
        once voted on."""
        return self.mode == BattleMode.COMPARE or self.revealed_at is not None

    def shown_error(self, job: GenerationJob) -> str:
        """Why one of its answers failed, as its owner may see it: the job's own words only once
        the names are out (they may name the model: its context length, its server's message)."""
        if not job.error or self.is_revealed:
            return job.error
        return str(_("This answer failed."))


class Vote(models.Model):
    """The battle owner's verdict: one per battle (the one-to-one is the database's guarantee),
    cast by the battle's owner (the vote has no voter of its own to get wrong)."""

    Winner = Winner

    battle = models.OneToOneField(Battle, on_delete=models.CASCADE, related_name="vote")
    winner = models.CharField(max_length=10, choices=Winner.choices)
    created_at = models.DateTimeField(default=timezone.now)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    void_reason = models.CharField(max_length=200, blank=True)

    objects = VoteQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(winner__in=Winner.values), name="vote_winner_valid"),
        ]

    def __str__(self) -> str:
        return f"vote {self.winner} on battle {self.battle_id}"

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None
