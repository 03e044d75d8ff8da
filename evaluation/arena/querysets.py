"""Reads for the arena: a member's battles, and the votes the leaderboard counts."""
from __future__ import annotations

from django.db import models
from django.db.models import Count, Max, Q, Sum

from models_hub.models import Resource


class BattleQuerySet(models.QuerySet):
    def owned_by(self, user) -> "BattleQuerySet":
        """Only the owner opens a battle (its prompt and, before the vote, its hidden pairing)."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(user=user)

    def with_parts(self) -> "BattleQuerySet":
        """Everything a battle's page or JSON shows, in one query."""
        return self.select_related("job_a", "job_b", "model_a", "model_b", "vote")


class VoteQuerySet(models.QuerySet):
    def counted(self) -> "VoteQuerySet":
        """What the leaderboard counts: blind battles' votes that no moderator voided, between
        models that are public now (a model taken down leaves the leaderboard with its votes)."""
        return self.filter(voided_at__isnull=True, battle__mode="blind", battle__model_a__is_published=True,
                           battle__model_b__is_published=True)

    def by_member(self, user) -> "VoteQuerySet":
        return self.filter(battle__user=user)

    def outcome_counts(self) -> list[tuple[str, str, str, int]]:
        """(model_a, model_b, winner, n) per pairing and verdict: the whole input of a fit, in
        two queries however many votes there are (grouped by ids, then the ids' names)."""
        rows = list(self.order_by().values_list("battle__model_a_id", "battle__model_b_id", "winner")
                    .annotate(n=Count("id")).order_by())
        ids = {model for a, b, _winner, _n in rows for model in (a, b)}
        names = dict(Resource.objects.filter(pk__in=ids).values_list("pk", "repo_id")) if ids else {}
        return sorted((names[a], names[b], winner, n) for a, b, winner, n in rows)

    def fingerprint(self) -> tuple:
        """What changes whenever the counted votes may have: a vote cast, voided or deleted. One
        scan of the votes table, without joins; the leaderboard's cache is keyed by it. The newest
        vote's time as well as its id: ids start again in a recreated or restored database, whose
        cache may still hold a fit of other votes under the same ids."""
        found = self.order_by().aggregate(n=Count("id"), last=Max("id"), newest=Max("created_at"),
                                          voided=Count("voided_at"), last_void=Max("voided_at"))
        return (found["n"], found["last"], found["newest"] and found["newest"].isoformat(), found["voided"],
                found["last_void"] and found["last_void"].isoformat())

    def withheld_models(self) -> tuple:
        """Which models are not public now, as a key (how many, and their ids' sum): it changes
        when one is taken down or published, and with it the leaderboard's cache key."""
        found = Resource.objects.filter(is_published=False).aggregate(n=Count("pk"), ids=Sum("pk"))
        return found["n"], found["ids"]

    def voters(self):
        """Members with votes, the most votes first, with how many count and how many were
        voided (the moderators' page)."""
        from_blind = Q(battle__mode="blind")
        return (self.order_by().values("battle__user", "battle__user__username")
                .annotate(votes=Count("id", filter=from_blind),
                          voided=Count("id", filter=from_blind & Q(voided_at__isnull=False)),
                          last_vote=Max("created_at"))
                .order_by("-votes", "battle__user__username"))
