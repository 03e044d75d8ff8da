"""Models of the evaluation app, one module per concern (suites and runs; the arena)."""
from .arena import Battle, BattleMode, BattleStatus, Vote, Winner  # noqa: F401
