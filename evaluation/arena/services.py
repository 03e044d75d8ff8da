"""Writes for the arena: start a battle (two playground jobs), vote, void a member's votes."""
from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from community.models import ModerationLog, User
from community.moderation import log_action
from core import queues
from models_hub.models import Resource
from playground import services as playground
from playground.models import GenerationJob

from . import permissions
from ..models.arena import Battle, BattleMode, BattleStatus, Vote, Winner

VOID_REASON_MAX_LENGTH = Vote._meta.get_field("void_reason").max_length


class VoteRefused(Exception):
    """The battle is not in a state to take this vote (answers unfinished, already voted, names
    already shown): the API's 409."""


def contenders() -> list[Resource]:
    """The models a battle can draw: every runnable model."""
    return list(Resource.objects.runnable().select_related("runtime").order_by("repo_id"))


def _draw(pool: list[Resource]) -> tuple[Resource, Resource]:
    """Two different models, uniformly at random, in random order (which is A is chance too)."""
    if len(pool) < 2:
        raise ValidationError({"models": [_("The arena needs at least two runnable models; this site has %(n)d.")
                                          % {"n": len(pool)}]})
    a, b = secrets.SystemRandom().sample(pool, 2)
    return a, b


def _check_prompt(prompt: str, models: tuple[Resource, Resource]) -> str:
    prompt = (prompt or "").strip()
    if not prompt:
        raise ValidationError({"prompt": [_("Write a prompt for the two models.")]})
    limit = min([settings.PLAYGROUND_MAX_PROMPT_CHARS] + [m.runtime.context_length * 4 for m in models])
    if len(prompt) > limit:
        raise ValidationError({"prompt": [_("At most %(n)d characters.") % {"n": limit}]})
    return prompt


def _submit(user: User, resource: Resource, prompt: str, source: str) -> GenerationJob:
    runtime = resource.runtime
    return playground.submit_job(
        user=user, resource=resource, mode=GenerationJob.Mode.CHAT,
        messages=[{"role": "user", "content": prompt}],
        params={"max_new_tokens": min(settings.ARENA_MAX_NEW_TOKENS, runtime.max_new_tokens)}, source=source)


def start_battle(*, user: User, prompt: str, models: list[Resource] | None = None,
                 source: str = GenerationJob.Source.API) -> Battle:
    """Two jobs answering the same prompt, queued together. Without `models` the pair is drawn
    at random and sealed (hidden from the playground's reads) until the vote; with two models
    it is a compare battle, named from the start. The playground's quotas apply to both jobs;
    if the second is refused, neither is kept. If the queue went away meanwhile, both jobs
    are queued or failed, and QueueUnavailable says so."""
    battle = _start_battle(user=user, prompt=prompt, models=models, source=source)
    queues.raise_if_unqueued([battle.job_a, battle.job_b])  # their dispatch ran on commit
    return battle


@transaction.atomic
def _start_battle(*, user: User, prompt: str, models: list[Resource] | None, source: str) -> Battle:
    if not permissions.can_start_battle(user):
        raise PermissionDenied
    if models is None:
        mode, (a, b) = BattleMode.BLIND, _draw(contenders())
    else:
        mode, (a, b) = BattleMode.COMPARE, models
        if a.pk == b.pk:
            raise ValidationError({"models": [_("Pick two different models.")]})
    prompt = _check_prompt(prompt, (a, b))
    job_a, job_b = _submit(user, a, prompt, source), _submit(user, b, prompt, source)
    # In this transaction: no reader ever sees a blind battle's jobs unsealed, or any battle's
    # answers deletable.
    GenerationJob.objects.filter(pk__in=[job_a.pk, job_b.pk]).update(sealed=mode == BattleMode.BLIND, kept=True)
    return Battle.objects.create(user=user, mode=mode, prompt=prompt, model_a=a, model_b=b,
                                 job_a=job_a, job_b=job_b)


@transaction.atomic
def vote(*, user: User, battle: Battle, winner: str) -> Battle:
    """The owner's one vote, once both answers have finished; it reveals a blind battle's
    models (and unseals its jobs, which then show in the member's runs)."""
    if not permissions.can_vote(user, battle):
        raise PermissionDenied
    if winner not in Winner.values:
        raise ValidationError({"winner": [_("Choose a, b, tie or both_bad.")]})
    battle = Battle.objects.select_for_update(of=("self",)).with_parts().get(pk=battle.pk)
    if battle.has_vote:
        raise VoteRefused(_("You have already voted on this battle."))
    if battle.mode == BattleMode.BLIND and battle.revealed_at is not None:
        raise VoteRefused(_("This battle's models were already revealed."))
    status = battle.status
    if status == BattleStatus.FAILED:
        raise VoteRefused(_("An answer failed, so this battle cannot be judged."))
    if status != BattleStatus.READY:
        raise VoteRefused(_("Wait until both answers have finished."))
    battle.vote = Vote.objects.create(battle=battle, winner=winner)
    if battle.revealed_at is None:
        battle.revealed_at = timezone.now()
        battle.save(update_fields=["revealed_at"])
    GenerationJob.objects.filter(pk__in=[battle.job_a_id, battle.job_b_id]).update(sealed=False)
    return battle


def stop_battle(*, user: User, battle: Battle) -> Battle:
    """The owner stops both answers (a battle with a stopped answer cannot be voted on)."""
    if not permissions.can_stop(user, battle):
        raise PermissionDenied
    for job in (battle.job_a, battle.job_b):
        if not job.is_finished:
            playground.cancel_job(user=user, job=job)
    return Battle.objects.with_parts().get(pk=battle.pk)


@transaction.atomic
def void_votes(*, moderator: User, member: User, reason: str = "") -> int:
    """Take all of a member's standing votes out of the leaderboard (it refits on its next
    read: its cache is keyed by the votes it counts). Returns how many were voided."""
    if not permissions.can_void_votes(moderator):
        raise PermissionDenied(_("Only moderators may do this."))
    reason = (reason or "").strip()
    if len(reason) > VOID_REASON_MAX_LENGTH:
        raise ValidationError({"reason": [_("At most %(n)d characters.") % {"n": VOID_REASON_MAX_LENGTH}]})
    voided = Vote.objects.by_member(member).filter(voided_at__isnull=True).update(
        voided_at=timezone.now(), voided_by=moderator, void_reason=reason)
    log_action(moderator=moderator, action=ModerationLog.Action.VOID_VOTES, subject=member.username,
               link=member.get_absolute_url(), member=member, detail=f"{voided}: {reason}" if reason else str(voided))
    return voided


@transaction.atomic
def void_selected(*, moderator: User, votes, reason: str = "") -> int:
    """The admin action: void the chosen votes."""
    if not permissions.can_void_votes(moderator):
        raise PermissionDenied(_("Only moderators may do this."))
    return votes.filter(voided_at__isnull=True).update(voided_at=timezone.now(), voided_by=moderator,
                                                       void_reason=reason[:VOID_REASON_MAX_LENGTH])
