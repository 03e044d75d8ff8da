"""One rule per hub action, used by services, views, the API and templates."""
from __future__ import annotations

from .models import Resource, Runtime

IDENTITY = ("kind", "owner", "name")  # what a resource's URL, repo id and playground name are made of


def can_change(user, resource: Resource) -> bool:
    """Edit or delete a resource: its submitter or a moderator."""
    return bool(user.is_authenticated and (user.is_staff or resource.submitter_id == user.pk))


def has_runtime(resource: Resource) -> bool:
    """The playground knows it by its repo id (enabled or not), so its identity is fixed."""
    return Runtime.objects.filter(resource=resource).exists()


def can_rename(user, resource: Resource) -> bool:
    """Change kind, owner or name after publishing: moderators (or the system, `user` None) only,
    and nobody once the resource has a runtime."""
    return (user is None or user.is_staff) and not has_runtime(resource)
