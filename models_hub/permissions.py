"""One rule per hub action, used by services, views, the API and templates."""
from __future__ import annotations

from .models import Resource


def can_change(user, resource: Resource) -> bool:
    """Edit or delete a resource: its submitter or a moderator."""
    return bool(user.is_authenticated and (user.is_staff or resource.submitter_id == user.pk))
