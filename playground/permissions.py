"""One rule per job action, used by services (which enforce it), views, the API and templates.

A job is its owner's: only they publish it, unpublish it or quote it in the forum. A moderator
may also stop a running job (to end abuse of the workers), and make a reported run private,
never publish someone else's run. Members report shared runs they did not make.
"""
from __future__ import annotations

from core.permissions import is_moderator

from .models import GenerationJob


def is_owner(user, job: GenerationJob) -> bool:
    return bool(user.is_authenticated and job.user_id == user.pk)


def can_cancel(user, job: GenerationJob) -> bool:
    return is_owner(user, job) or is_moderator(user)


def can_share(user, job: GenerationJob) -> bool:
    return is_owner(user, job)


def can_post_to_forum(user, job: GenerationJob) -> bool:
    return is_owner(user, job)


def can_report(user, job: GenerationJob) -> bool:
    """Any signed-in member but the owner may report a shared run to the moderators."""
    return bool(user.is_authenticated and job.is_public and not is_owner(user, job))


def can_review_reports(user) -> bool:
    return is_moderator(user)
