from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    """Suites from dataset repositories run with lm-evaluation-harness, their leaderboards, and
    the blind arena with its Bradley–Terry leaderboard."""

    name = "evaluation"
    verbose_name = "Evaluation and arena"

    def ready(self) -> None:
        from .arena import admin  # noqa: F401  (registers the arena's models in the admin)

    def seed_demo(self) -> str:
        from .arena.seed import seed_arena

        return seed_arena()
