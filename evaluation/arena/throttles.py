"""Per-member throttles on starting battles and voting, beside the API's global ones. Their
rates are settings of their own (ARENA_BATTLE_RATE, ARENA_VOTE_RATE), read when a request
comes, so deployments and tests change them without touching DRF's rate table."""
from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import UserRateThrottle


class _SettingRateThrottle(UserRateThrottle):
    setting = ""

    def get_rate(self) -> str:
        return getattr(settings, self.setting)


class BattleThrottle(_SettingRateThrottle):
    scope = "arena_battle"
    setting = "ARENA_BATTLE_RATE"


class VoteThrottle(_SettingRateThrottle):
    scope = "arena_vote"
    setting = "ARENA_VOTE_RATE"
