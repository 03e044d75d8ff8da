"""One rule per evaluation action, shared by services, views, the API and templates.

Results are public (leaderboards quote them), so anyone may read a run and its samples. A run is
its requester's: they (or a moderator, to end abuse of the workers) may cancel it; any member
may start a run or open a discussion of a succeeded result (once its model and dataset are public).
"""
from __future__ import annotations

from core.permissions import is_moderator

from .models import EvaluationRun


def can_request_run(user) -> bool:
    return bool(user.is_authenticated)


def can_cancel(user, run: EvaluationRun) -> bool:
    return bool(user.is_authenticated and (run.user_id == user.pk or is_moderator(user)))


def can_discuss(user, run: EvaluationRun) -> bool:
    """A succeeded result of a published model on a published suite: a thread is public. It is
    the requester's thread, so not while they may not post (suspended, or their account closed)."""
    return bool(user.is_authenticated and run.status == EvaluationRun.Status.SUCCEEDED
                and run.model.is_published and run.suite.dataset.is_published
                and run.user.is_active and not run.user.is_suspended)
