"""Caps on what one request may ask of the forum, from settings with safe defaults (read on
each call, so that a deployment's settings and tests' overrides apply)."""
from __future__ import annotations

from django.conf import settings


def max_mentions_per_post() -> int:
    """Distinct @mentions per post that notify (Discourse's max_mentions_per_post)."""
    return settings.FORUM_MAX_MENTIONS_PER_POST
