"""Words for one member, wherever they are written: a worker's error, an e-mail."""
from __future__ import annotations

from django.conf import settings
from django.utils import translation


def in_language_of(user) -> translation.override:
    """Translate in the language the member last used (`User.language`), else the site's."""
    return translation.override(getattr(user, "language", "") or settings.LANGUAGE_CODE)
