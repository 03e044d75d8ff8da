from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    """Suites from dataset repositories run with lm-evaluation-harness, their leaderboards, and
    the blind arena with its Bradley–Terry leaderboard."""

    name = "evaluation"
    verbose_name = "Evaluation and arena"

    def ready(self) -> None:
        from celery.signals import worker_init, worker_ready, worker_shutting_down

        from . import lmeval, reaper, runner
        from .arena import admin  # noqa: F401  (registers the arena's models in the admin)

        # Before a task imports `datasets`: the worker reads local files only, never the network.
        worker_init.connect(lambda **_kw: lmeval.go_offline(), weak=False, dispatch_uid="evaluation-offline")
        worker_ready.connect(reaper.start, weak=False, dispatch_uid="evaluation-reaper")
        worker_shutting_down.connect(runner.shutdown, weak=False, dispatch_uid="evaluation-shutdown")

    def seed_demo(self) -> str:
        from .arena.seed import seed_arena
        from .seed import seed_suites

        return "; ".join([seed_suites(), seed_arena()])
