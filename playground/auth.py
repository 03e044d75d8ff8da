"""Who is calling an async view: an API key (Token or Bearer) or the browser session."""
from __future__ import annotations

from asgiref.sync import sync_to_async
from django.contrib.auth.models import AnonymousUser

from community.authentication import user_for_key


class BadKey(Exception):
    pass


async def request_user(request):
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() in ("token", "bearer"):
        user = await sync_to_async(user_for_key)(key.strip())
        if user is None:
            raise BadKey
        return user
    user = await request.auser()
    return user if user.is_authenticated else AnonymousUser()
