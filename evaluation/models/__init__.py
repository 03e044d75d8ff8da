"""Models of the evaluation app, one module per concern (suites and runs; the arena)."""
from .runs import EvaluationRun, EvaluationSample, RunStatus  # noqa: F401
from .suites import Suite  # noqa: F401
from .arena import Battle, BattleMode, BattleStatus, Vote, Winner  # noqa: F401
