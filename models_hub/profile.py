"""The hub's section of a member's profile page."""
from __future__ import annotations

from django.utils.translation import gettext as _

from community.profiles import ProfileSection

from .models import Resource

PROFILE_RESOURCES = 6


def resources_section(*, person, viewer) -> ProfileSection | None:
    """What `person` owns in the hub (under their name, and theirs: a member who signs up with
    an organisation's name does not get its models), as `viewer` may see it; None if nothing."""
    owned = Resource.objects.visible_to(viewer).filter(owner=person.username, submitter=person)
    latest = list(owned.for_list(viewer).order_by("-updated_at", "-id")[:PROFILE_RESOURCES + 1])
    if not latest:
        return None
    return ProfileSection(title=_("Models, datasets and more"), template="models_hub/includes/profile_resources.html",
                          context={"resources": latest[:PROFILE_RESOURCES], "more": len(latest) > PROFILE_RESOURCES,
                                   "owner": person.username})
