"""Time to refit the arena leaderboard: 100,000 blind votes among 50 models, bootstrap included.

Three figures, each the median of several runs:
- the fit alone: Bradley–Terry by maximum likelihood plus ARENA_BOOTSTRAP_ROUNDS bootstrap refits
  and the win-rate matrix, from the aggregated counts (what `leaderboard.compute` does);
- a cold refit through the database: the grouped query over 100,000 votes, then the fit
  (`leaderboard.current()` with an empty cache: what the first read after a vote costs);
- a warm read: the grouped query, the fit from the cache (every other read).

Votes come from known strengths (50 models, N(0, 1) on the natural-log scale, ties as half wins),
stored as real battles, jobs and votes in a PostgreSQL database of their own (llmc_bench_arena),
made once. Goal (issue 13): a refit within 1 s. `python bench/arena_refit.py` writes
bench/results/arena.md.
"""
from __future__ import annotations

import os
import platform
import time

import numpy as np

from common import ROOT, production_settings, setup_django, table, timed

N_MODELS = int(os.environ.get("BENCH_ARENA_MODELS", 50))
N_VOTES = int(os.environ.get("BENCH_ARENA_VOTES", 100_000))
GOAL_MS = 1000.0


def _votes(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    strength = rng.normal(0.0, 1.0, N_MODELS)
    a = rng.integers(0, N_MODELS, N_VOTES)
    b = (a + rng.integers(1, N_MODELS, N_VOTES)) % N_MODELS
    p = 1.0 / (1.0 + np.exp(strength[b] - strength[a]))
    p_tie = 0.2 * 2 * np.minimum(p, 1 - p)
    u = rng.random(N_VOTES)
    winner = np.where(u < p - p_tie / 2, "a", np.where(u < p + p_tie / 2, "tie", "b"))
    return a, b, winner


def _populate() -> bool:
    """Battles, their two jobs and a vote each, once (bulk inserts; no worker runs). Whether it
    filled the database now."""
    from django.db import transaction

    from community.models import User
    from evaluation.models import Battle, Vote
    from models_hub.models import Resource, Runtime
    from playground.models import GenerationJob

    if Vote.objects.count() == N_VOTES and Resource.objects.runnable().count() == N_MODELS:
        return False
    with transaction.atomic():
        Vote.objects.all().delete()
        Battle.objects.all().delete()
        GenerationJob.objects.all().delete()
        Resource.objects.filter(owner="bench-arena").delete()
        models = [Resource.objects.create(kind="model", owner="bench-arena", name=f"model-{i:02d}", title=f"M{i}")
                  for i in range(N_MODELS)]
        for m in models:
            Runtime.objects.create(resource=m, backend="openai", base_url="http://127.0.0.1:9/v1", served_model="x")
        voter, _ = User.objects.get_or_create(username="bench-arena-voter")
        a, b, winner = _votes(np.random.default_rng(2026))
        for start in range(0, N_VOTES, 5000):
            rows = range(start, min(start + 5000, N_VOTES))
            jobs = GenerationJob.objects.bulk_create(
                [GenerationJob(user=voter, resource=models[int(side[i])], mode="chat", params={}, status="succeeded")
                 for i in rows for side in (a, b)])
            battles = Battle.objects.bulk_create(
                [Battle(user=voter, prompt="?", model_a=models[int(a[i])], model_b=models[int(b[i])],
                        job_a=jobs[2 * k], job_b=jobs[2 * k + 1]) for k, i in enumerate(rows)])
            Vote.objects.bulk_create([Vote(battle=battle, winner=str(winner[i]))
                                      for battle, i in zip(battles, rows)])
    return True


def main() -> str:
    for name, value in production_settings("127.0.0.1").items():
        os.environ.setdefault(name, value)
    setup_django("llmc_bench_arena")
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection

    from evaluation.arena import leaderboard
    from evaluation.models import Vote

    started = time.perf_counter()
    filled = _populate()
    with connection.cursor() as cursor:  # planner statistics, as autovacuum gathers them
        cursor.execute("ANALYZE")
    populate_s = time.perf_counter() - started
    rows = Vote.objects.counted().outcome_counts()
    rounds = settings.ARENA_BOOTSTRAP_ROUNDS
    fit = timed(lambda: leaderboard.compute(rows, rounds=rounds, seed=1), repeat=5, warmup=1)
    fit_1000 = timed(lambda: leaderboard.compute(rows, rounds=1000, seed=1), repeat=3, warmup=0)

    def cold() -> None:
        cache.clear()
        leaderboard.current()

    refit = timed(cold, repeat=5, warmup=1)
    warm = timed(leaderboard.current, repeat=20, warmup=1)
    board = leaderboard.current()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    verdict = "met" if refit[0] <= GOAL_MS else "missed"
    return "\n".join([
        f"# Arena leaderboard refit: {N_VOTES:,} votes among {N_MODELS} models",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs (shared with other work), Python "
        f"{platform.python_version()}, numpy {np.__version__}, PostgreSQL; load average {load} at the end. "
        f"{len(rows)} pair×verdict rows "
        f"from the grouped query; {board.votes:,} votes counted. "
        + (f"Database filled in {populate_s:.0f} s." if filled else "Database filled by an earlier run."),
        "",
        table([
            (f"fit + {rounds} bootstrap rounds + win rates (from counts)", *fit, "`leaderboard.compute`"),
            ("fit + 1000 bootstrap rounds + win rates (from counts)", *fit_1000, "for comparison"),
            (f"cold refit through the database ({rounds} rounds)", *refit,
             "grouped query over 100k votes, then the fit: the first read after a vote"),
            ("warm read (fit cached under the votes' fingerprint)", *warm, "one scan of the votes table"),
        ]),
        "",
        f"Goal: refit within {GOAL_MS:.0f} ms, bootstrap included — **{verdict}** "
        f"(cold refit p50 {refit[0]:.0f} ms).",
        "",
    ])


if __name__ == "__main__":
    report = main()
    (ROOT / "bench" / "results" / "arena.md").write_text(report)
    print(report)
