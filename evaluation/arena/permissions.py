"""One rule per arena action, used by services (which enforce them), views, the API and templates.

A battle is its owner's: only they see it and vote on it. Moderators void votes (never cast or
change them), so a member who games the leaderboard can be taken out of it.
"""
from __future__ import annotations

from core.permissions import is_moderator


def is_owner(user, battle) -> bool:
    return bool(user.is_authenticated and battle.user_id == user.pk)


def can_view(user, battle) -> bool:
    return is_owner(user, battle)


def can_vote(user, battle) -> bool:
    return is_owner(user, battle)


def can_stop(user, battle) -> bool:
    return is_owner(user, battle)


def can_start_battle(user) -> bool:
    return bool(user.is_authenticated)


def can_void_votes(user) -> bool:
    return is_moderator(user)
