"""Who may write to a repository (one rule, used by the web form, the HF API and services)."""
from __future__ import annotations

from ..permissions import can_change


def can_commit(user, resource) -> bool:
    """Upload, delete files, edit the card: the resource's owner (submitter) or a moderator."""
    return can_change(user, resource)


def can_set_runtime(user) -> bool:
    """Make a repository runnable (what the workers load): moderators only."""
    return bool(user.is_authenticated and user.is_staff)
