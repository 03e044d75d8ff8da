"""Battles and votes for the arena tests, written as the services would leave them."""
from django.utils import timezone

from evaluation.models import Battle, Vote
from playground.models import GenerationJob
from tests.factories import UserFactory
from tests.live import ARENA_TWIN_REPO_ID as TWIN  # noqa: F401  (re-exported: a second runnable model over the same GGUF)


def finish(battle: Battle, status: str = GenerationJob.Status.SUCCEEDED) -> Battle:
    """Both answers done, as a worker leaves them."""
    GenerationJob.objects.filter(pk__in=[battle.job_a_id, battle.job_b_id]).update(
        status=status, output="An answer.", finished_at=timezone.now(), completion_tokens=3)
    return Battle.objects.with_parts().get(pk=battle.pk)


def make_battle(a, b, *, user=None, mode=Battle.Mode.BLIND, winner=None, voided=False) -> Battle:
    user = user or UserFactory()
    jobs = [GenerationJob.objects.create(user=user, resource=m, mode="chat", params={}, output="An answer.",
                                         status=GenerationJob.Status.SUCCEEDED, sealed=winner is None
                                         and mode == Battle.Mode.BLIND)
            for m in (a, b)]
    battle = Battle.objects.create(user=user, mode=mode, prompt="Which is better?", model_a=a, model_b=b,
                                   job_a=jobs[0], job_b=jobs[1],
                                   revealed_at=timezone.now() if winner else None)
    if winner:
        Vote.objects.create(battle=battle, winner=winner, voided_at=timezone.now() if voided else None)
    return battle
