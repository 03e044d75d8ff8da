"""Writes shared by every app: API keys and tags."""
from __future__ import annotations

import re
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .authentication import KEY_PREFIX, hash_key
from .models import MAX_TAGS, TAG_MAX_LENGTH, ApiToken, Tag

TOKEN_NAME_MAX_LENGTH = ApiToken._meta.get_field("name").max_length


def create_token(*, user, name: str) -> tuple[ApiToken, str]:
    """A new token and its key; only the hash is stored, so the key is shown once."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name[:TOKEN_NAME_MAX_LENGTH] or "api",
                                    prefix=key[:8], key_hash=hash_key(key))
    return token, key


def revoke_token(*, user, token_id: int) -> bool:
    deleted, _rows = ApiToken.objects.filter(user=user, pk=token_id).delete()
    return bool(deleted)


TAG_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f]")  # PostgreSQL refuses NUL; the rest is never meant


def clean_tags(names: list[str]) -> list[str]:
    """Lower-case, dashed, de-duplicated tag names; a 400 on `tags` past the limits, or for a
    name with control characters (PostgreSQL cannot store NUL)."""
    cleaned = list(dict.fromkeys(n.strip().lower().replace(" ", "-") for n in names if n.strip()))
    if len(cleaned) > MAX_TAGS:
        raise ValidationError({"tags": [_("At most %(n)d tags.") % {"n": MAX_TAGS}]})
    if any(len(n) > TAG_MAX_LENGTH for n in cleaned):
        raise ValidationError({"tags": [_("A tag has at most %(n)d characters.") % {"n": TAG_MAX_LENGTH}]})
    if any(TAG_FORBIDDEN.search(n) for n in cleaned):
        raise ValidationError({"tags": [_("A tag cannot contain control characters.")]})
    return cleaned


@transaction.atomic
def tags_named(names: list[str]) -> list[Tag]:
    """The Tag rows for these names (validated first), created when new."""
    return [Tag.objects.get_or_create(name=name)[0] for name in clean_tags(names)]
