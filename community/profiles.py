"""A member's profile page gathers sections from the apps above the forum (their models and
datasets in the hub, say), which the forum cannot import: an app takes part by giving its
AppConfig a `profile_section(person=, viewer=)` method that returns a ProfileSection or None.
Likewise an app whose URLs carry names (the hub's namespaces) keeps them from new members with
`claims_name(name)`."""
from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps


@dataclass(frozen=True)
class ProfileSection:
    title: str
    template: str  # rendered with `context` and the page's own context
    context: dict = field(default_factory=dict)


def sections_for(*, person, viewer) -> list[ProfileSection]:
    """The sections the installed apps give `person`'s profile, as `viewer` may see them."""
    found = []
    for config in apps.get_app_configs():
        provide = getattr(config, "profile_section", None)
        if provide is not None and (section := provide(person=person, viewer=viewer)) is not None:
            found.append(section)
    return found


def name_is_claimed(name: str) -> bool:
    """True when an installed app holds `name` already (ignoring case) for something no member owns."""
    return any(getattr(config, "claims_name", lambda _name: False)(name) for config in apps.get_app_configs())
