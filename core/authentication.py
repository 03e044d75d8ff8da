"""API keys: `Authorization: Token <key>` or `Bearer <key>` (what OpenAI clients send).

Only the SHA-256 of a key is stored. The DRF class serves the REST API; `request_user` serves
the async views (streams, /v1/) that DRF does not wrap.
"""
from __future__ import annotations

import hashlib

from asgiref.sync import sync_to_async
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from rest_framework import authentication, exceptions

from .models import ApiToken

KEY_PREFIX = "llmc_"
LAST_USED_RESOLUTION_S = 60  # last_used_at is written at most once a minute per key


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def user_for_key(key: str):
    """The active user owning this key, or None (also while a moderator has them suspended)."""
    token = ApiToken.objects.select_related("user").filter(key_hash=hash_key(key)).first()
    if token is None or not token.user.is_active or getattr(token.user, "is_suspended", False):
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > LAST_USED_RESOLUTION_S:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


API_KEY_SCHEMES = ("token", "bearer")


def key_in(header: str) -> str | None:
    """The API key an Authorization header names (`Token <key>` or `Bearer <key>`), or None when it
    names none (no header, another scheme)."""
    scheme, _space, key = header.strip().partition(" ")
    return key.strip() if scheme.lower() in API_KEY_SCHEMES else None


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keywords = API_KEY_SCHEMES

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].decode(errors="replace").lower() not in self.keywords:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header.")
        user = user_for_key(parts[1].decode(errors="replace"))
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        return user, None

    def authenticate_header(self, request) -> str:
        return "Token"


class BadKey(Exception):
    """An Authorization header named a key that does not exist (or was revoked)."""


async def request_user(request):
    """Who is calling an async view: an API key (Token or Bearer) or the browser session."""
    key = key_in(request.headers.get("Authorization", ""))
    if key is not None:
        user = await sync_to_async(user_for_key)(key)
        if user is None:
            raise BadKey
        return user
    user = await request.auser()
    return user if user.is_authenticated else AnonymousUser()



