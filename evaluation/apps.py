from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    """Suites from dataset repositories run with lm-evaluation-harness, their leaderboards, and
    the blind arena with its Bradley–Terry leaderboard."""

    name = "evaluation"
    verbose_name = "Evaluation and arena"
