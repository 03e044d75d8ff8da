"""Writes shared by every app: API keys and tags."""
from __future__ import annotations

import re
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .authentication import KEY_PREFIX, hash_key
from .models import MAX_TAGS, TAG_MAX_LENGTH, ApiToken, Tag

TOKEN_NAME_MAX_LENGTH = ApiToken._meta.get_field("name").max_length


@transaction.atomic
def create_token(*, user, name: str) -> tuple[ApiToken, str]:
    """A new token and its key; only the hash is stored, so the key is shown once.

    A member has at most API_TOKENS_PER_USER tokens (a ValidationError on `name` past it), so
    that a stolen session or password cannot mint keys without bound."""
    # One at a time; NO KEY, so rows that merely reference the member are not blocked.
    get_user_model().objects.select_for_update(no_key=True).filter(pk=user.pk).first()
    limit = settings.API_TOKENS_PER_USER
    if ApiToken.objects.filter(user=user).count() >= limit:
        raise ValidationError({"name": [_("You already have %(n)d API tokens, the most allowed: "
                                          "revoke one first.") % {"n": limit}]})
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name[:TOKEN_NAME_MAX_LENGTH] or "api",
                                    prefix=key[:8], key_hash=hash_key(key))
    return token, key


LOGIN_TOKEN_NAME = "api (log-in)"


@transaction.atomic
def create_login_token(*, user) -> tuple[ApiToken, str]:
    """A token for the log-in endpoint. Scripts log in again and again: at the cap, the oldest
    token this endpoint made is revoked to make room; tokens made on the settings page are never
    touched (and when they alone fill the cap, the log-in is refused like create_token)."""
    get_user_model().objects.select_for_update(no_key=True).filter(pk=user.pk).first()
    tokens = ApiToken.objects.filter(user=user)
    if tokens.count() >= settings.API_TOKENS_PER_USER:
        oldest = tokens.filter(name=LOGIN_TOKEN_NAME).order_by("created_at", "pk").first()
        if oldest is not None:
            oldest.delete()
    return create_token(user=user, name=LOGIN_TOKEN_NAME)


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
