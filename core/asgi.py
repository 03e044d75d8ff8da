"""The ASGI side. Request bodies: refused with a 413 once past their path's limit
(MAX_REQUEST_BODY_BYTES, or MAX_UPLOAD_BYTES on the upload paths), declared or not; Django's ASGI
handler would otherwise spool any body, however large, to a temporary file before a view could say
no. An upload guard may refuse a request, or lower its limit, before its body is read. Responses:
closed even when a streamed body raises (ASGIHandler)."""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from importlib import import_module
from typing import Awaitable, Callable

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.handlers.asgi import ASGIHandler as DjangoASGIHandler
from django.db import close_old_connections

from .authentication import key_in, user_for_key
from .middleware import body_limit_for, cors_headers, error_body, is_upload_path, too_large_body


@dataclass(frozen=True)
class Refusal:
    """An answer given before the request's body is read."""
    status: int
    message: str
    code: str


# The scope -> a refusal, a lower limit for the body (bytes), or None (nothing to say); or an
# awaitable of one of them.
UploadGuard = Callable[[dict], "Refusal | int | None | Awaitable[Refusal | int | None]"]


async def credentials_required(scope: dict) -> Refusal | None:
    """An upload path's request without valid credentials (a member's API token, or a session
    that is signed in) is refused before its body is read: uploads are for members, and Django
    would spool up to MAX_UPLOAD_BYTES of anyone's body to disk first, made-up credentials
    included. What the member may do is for the view to say."""
    if not is_upload_path(scope.get("path", "")) or scope.get("method") not in ("POST", "PUT", "PATCH"):
        return None
    # Not on the process's one thread for sync code: these lookups come before any request's own.
    if await sync_to_async(_holds_credentials, thread_sensitive=False)(dict(scope.get("headers") or [])):
        return None
    return Refusal(401, "Sign in, or send a valid API token, to upload.", "not_authenticated")


def _holds_credentials(headers: dict) -> bool:
    try:
        key = key_in(headers.get(b"authorization", b"").decode("latin-1"))
        if key:
            return user_for_key(key) is not None
        try:
            cookies = SimpleCookie(headers.get(b"cookie", b"").decode("latin-1"))
        except CookieError:
            return False
        session = cookies.get(settings.SESSION_COOKIE_NAME)
        store = import_module(settings.SESSION_ENGINE).SessionStore
        return bool(session and session.value and store(session.value).get(SESSION_KEY))
    finally:
        close_old_connections()  # outside any request: nothing else gives the connection back


class ASGIHandler(DjangoASGIHandler):
    """Django's handler, except that a response whose streamed body raises is still closed.

    Django's lets that error out of the request without closing the response, so
    `request_finished` never fires and the request's database connection is never given back.
    A stream whose database went away mid-stream (a restart) would take one of its process's pooled
    connections with it, until requests waited out the pool's timeout."""

    async def send_response(self, response, send):
        try:
            await super().send_response(response, send)
        except Exception:
            await sync_to_async(response.close)()  # on the request's thread, where its connection is
            raise


class BodyLimit:
    def __init__(self, app, *, max_bytes: int | None = None, limit_for: Callable[[str], int] = body_limit_for,
                 guard: UploadGuard | None = None):
        self.app = app
        self.limit_for = (lambda _path: max_bytes) if max_bytes is not None else limit_for
        self.guard = guard

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        max_bytes = self.limit_for(scope.get("path", ""))
        verdict = self.guard(scope) if self.guard is not None else None
        if inspect.isawaitable(verdict):
            verdict = await verdict
        if isinstance(verdict, Refusal):
            return await self._answer(scope, send, verdict)
        if verdict is not None:
            max_bytes = min(max_bytes, verdict)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            return await self._refuse(scope, send, max_bytes)
        received = 0
        too_large = False

        async def counted_receive():
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        started = False

        async def tracked_send(message):
            nonlocal started
            if too_large and not started:
                return  # whatever the app answers to a cut-off body, the answer is 413
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counted_receive, tracked_send)
        if too_large and not started:
            await self._refuse(scope, send, max_bytes)

    async def _answer(self, scope, send, refusal: Refusal) -> None:
        body, content_type = error_body(scope.get("path", ""), refusal.message, refusal.code)
        await _send(send, scope, refusal.status, body, content_type)

    async def _refuse(self, scope, send, max_bytes: int) -> None:
        body, content_type = too_large_body(scope.get("path", ""), max_bytes)
        await _send(send, scope, 413, body, content_type)


async def _send(send, scope: dict, status: int, body: bytes, content_type: str) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()),
               *((name.lower().encode(), value.encode()) for name, value in cors_headers(scope.get("path", "")).items())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
