"""The arena leaderboard: Bradley–Terry ratings with bootstrap CIs, and the pairwise win rates.

Its input is one grouped query (counts per pairing and verdict). The fit is cached under a
fingerprint of the votes table (how many votes, the newest and its time, how many voided, the latest
voiding) and of the models withheld from the public (drafts, taken down), so it is redone when a
vote is cast, voided or deleted or a model leaves or joins the public, and every other read costs
one scan of the votes table, without joins, and one count of the withheld models. The bootstrap's seed comes from a digest of the counts:
the same votes always give the same intervals.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from . import bradley_terry as bt
from ..models.arena import Vote, Winner

CACHE_TIMEOUT_S = 24 * 3600
OUTCOME = {Winner.A: "a", Winner.B: "b", Winner.TIE: "tie", Winner.BOTH_BAD: "tie"}  # both bad: a tie, as LMSYS


@dataclass(frozen=True)
class Leaderboard:
    results: list[dict] = field(default_factory=list)  # best first
    models: list[str] = field(default_factory=list)    # the matrix's order (= results' order)
    win_rate: list[list[float | None]] = field(default_factory=list)
    battles: list[list[int]] = field(default_factory=list)
    votes: int = 0
    bootstrap_rounds: int = 0

    def as_json(self) -> dict:
        return {"results": self.results, "votes": self.votes, "bootstrap_rounds": self.bootstrap_rounds,
                "matrix": {"models": self.models, "win_rate": self.win_rate, "battles": self.battles}}


def _model_url(repo_id: str) -> str:
    owner, name = repo_id.split("/", 1)
    return reverse("models_hub:detail", args=["model", owner, name])


def compute(rows: list[tuple[str, str, str, int]], *, rounds: int, seed: int) -> Leaderboard:
    """The leaderboard of (model_a, model_b, winner, n) rows (winner as stored)."""
    data = bt.pair_counts([(a, b, OUTCOME[winner], n) for a, b, winner, n in rows])
    if not data.models:
        return Leaderboard(bootstrap_rounds=rounds)
    fit = bt.ratings(data, rounds=rounds, seed=seed)
    wins, battles = bt.win_rates(data)
    order = sorted(range(len(data.models)), key=lambda i: (-fit.rating[i], data.models[i]))
    results = [{
        "model": data.models[i], "rating": round(float(fit.rating[i]), 1),
        "ci_low": round(float(fit.ci_low[i]), 1), "ci_high": round(float(fit.ci_high[i]), 1),
        "battles": int(battles[i].sum()), "wins": int(wins[i].sum()), "url": _model_url(data.models[i]),
    } for i in order]
    win_rate = [[round(float(wins[i, j] / battles[i, j]), 4) if battles[i, j] else None for j in order]
                for i in order]
    return Leaderboard(results=results, models=[data.models[i] for i in order], win_rate=win_rate,
                       battles=[[int(battles[i, j]) for j in order] for i in order],
                       votes=data.votes, bootstrap_rounds=rounds)


# This process's latest fit, under its key. The key names the votes exactly, so it is never stale;
# it spares a round trip to the cache, and while the cache is down (it fails open, core.cache) it
# stands between a public, then unthrottled, endpoint and a refit per request.
_latest: tuple[str, Leaderboard] | None = None


def current() -> Leaderboard:
    """The leaderboard of the votes that count now: one cheap query while they are unchanged,
    a refit (the grouped counts, then the fit) when they changed."""
    global _latest
    rounds = settings.ARENA_BOOTSTRAP_ROUNDS
    key = "arena:leaderboard:" + _digest([rounds, Vote.objects.fingerprint(), Vote.objects.withheld_models()])
    latest = _latest
    if latest is not None and latest[0] == key:
        return latest[1]
    board = cache.get(key)
    if board is None:
        rows = Vote.objects.counted().outcome_counts()
        board = compute(rows, rounds=rounds, seed=int(_digest(rows)[:8], 16))  # same votes, same intervals
        cache.set(key, board, CACHE_TIMEOUT_S)
    _latest = (key, board)
    return board


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, default=str).encode()).hexdigest()
