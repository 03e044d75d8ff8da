"""One rule per fine-tuning action, used by services (which enforce it), views, the API and
templates. A job is its owner's; moderators may also look at and stop any job (the training
workers are shared), and are exempt from the quotas."""
from __future__ import annotations

from core.permissions import is_moderator

from .models import FineTuneJob


def is_owner(user, job: FineTuneJob) -> bool:
    return bool(user.is_authenticated and job.user_id == user.pk)


def can_view(user, job: FineTuneJob) -> bool:
    return is_owner(user, job) or is_moderator(user)


def can_cancel(user, job: FineTuneJob) -> bool:
    return is_owner(user, job) or is_moderator(user)


def quota_exempt(user) -> bool:
    return is_moderator(user)
