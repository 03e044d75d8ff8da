"""Per-member throttles on starting battles and voting, beside the API's global ones
(ARENA_BATTLE_RATE, ARENA_VOTE_RATE)."""
from __future__ import annotations

from core.throttles import SettingRateThrottle


class BattleThrottle(SettingRateThrottle):
    scope = "arena_battle"
    setting = "ARENA_BATTLE_RATE"


class VoteThrottle(SettingRateThrottle):
    scope = "arena_vote"
    setting = "ARENA_VOTE_RATE"
