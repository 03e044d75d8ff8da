"""Template helpers every app's pages use."""
import math
from datetime import timedelta

from django import template

from core.permissions import is_moderator

register = template.Library()

register.filter("is_moderator", is_moderator)


@register.filter
def minutes(duration: timedelta) -> int:
    """A duration in whole minutes, rounded up (for "try again in N minutes")."""
    return max(1, math.ceil(duration.total_seconds() / 60))
