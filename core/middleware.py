"""Request-level guards every app relies on."""
from __future__ import annotations

import json
import re
from functools import lru_cache

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.http import HttpResponse
from django.utils.functional import SimpleLazyObject, empty


@lru_cache(maxsize=8)
def _upload_paths(patterns: tuple[str, ...]) -> re.Pattern | None:
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


def is_upload_path(path: str) -> bool:
    """One of the endpoints that take files (UPLOAD_PATH_PATTERNS)."""
    uploads = _upload_paths(tuple(getattr(settings, "UPLOAD_PATH_PATTERNS", ())))
    return uploads is not None and uploads.match(path) is not None


def body_limit_for(path: str) -> int:
    """MAX_UPLOAD_BYTES on the upload endpoints (UPLOAD_PATH_PATTERNS), MAX_REQUEST_BODY_BYTES
    everywhere else."""
    return settings.MAX_UPLOAD_BYTES if is_upload_path(path) else settings.MAX_REQUEST_BODY_BYTES


# Browser apps call the OpenAI-compatible API straight from the page (the OpenAI JS SDK with
# dangerouslyAllowBrowser, chat front-ends). /v1/ takes an API key only, never a cookie, so any
# origin may read its answers: a page can do nothing there that its key does not allow, and no
# credentials are shared. Every answer carries these, its errors and refusals included, or a
# browser would show an opaque network error instead of the reason.
V1_CORS_HEADERS = {"Access-Control-Allow-Origin": "*",
                   "Access-Control-Expose-Headers": "Retry-After, x-ratelimit-limit-requests, "
                                                    "x-ratelimit-remaining-requests, x-ratelimit-reset-requests"}


def cors_headers(path: str) -> dict[str, str]:
    return V1_CORS_HEADERS if path.startswith("/v1/") else {}


class _EitherChain:
    """A middleware that runs in sync and async chains alike, so async views (streams) keep
    running on the event loop: subclasses give __call__ and __acall__."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)


class V1CorsMiddleware(_EitherChain):
    """The CORS headers on every /v1/ answer (the preflight is the views' own: playground.openai_api.only)."""

    @staticmethod
    def _mark(request, response):
        for name, value in cors_headers(request.path).items():
            response[name] = value
        return response

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        return self._mark(request, self.get_response(request))

    async def __acall__(self, request):
        return self._mark(request, await self.get_response(request))


def error_body(path: str, message: str, code: str) -> tuple[bytes, str]:
    """An error's body and content type in the shape of the API the path belongs to."""
    if path.startswith("/v1/"):  # OpenAI's error shape
        error = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}
        return json.dumps(error).encode(), "application/json"
    if path.startswith("/api/"):
        return json.dumps({"detail": message}).encode(), "application/json"
    return message.encode(), "text/plain; charset=utf-8"


def too_large_body(path: str, limit: int) -> tuple[bytes, str]:
    return error_body(path, f"The request body is larger than {limit} bytes.", "request_too_large")


class RequestBodyLimitMiddleware(_EitherChain):
    """A declared body over its path's limit (`body_limit_for`) gets a 413 before any view or parser reads it.

    Django checks DATA_UPLOAD_MAX_MEMORY_SIZE only when `request.body` or `POST` is read; DRF's
    parsers read the stream instead. A body sent without a declared length (chunked) is capped
    by `core.asgi.BodyLimit` before Django sees it.
    """

    def _refusal(self, request) -> HttpResponse | None:
        if "\x00" in request.path:  # no page, thread, user or repository is named with one
            body, content_type = error_body(request.path, "Not found.", "not_found")
            return HttpResponse(body, status=404, content_type=content_type)
        if any("\x00" in value for _name, values in request.GET.lists() for value in values):
            # No text field anywhere holds a NUL, and PostgreSQL refuses one in a query.
            body, content_type = error_body(request.path, "A query parameter holds a NUL character.", "invalid_query")
            return HttpResponse(body, status=400, content_type=content_type)
        limit = body_limit_for(request.path)
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return HttpResponse("Invalid Content-Length.", status=400)
        if declared > limit:
            body, content_type = too_large_body(request.path, limit)
            return HttpResponse(body, status=413, content_type=content_type)
        return None

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        return self._refusal(request) or self.get_response(request)

    async def __acall__(self, request):
        return self._refusal(request) or await self.get_response(request)


class LazyMessageMiddleware(MessageMiddleware):
    """Django's MessageMiddleware, with the request's message storage built when first used.

    Building it (a cookie signer, a cookie and a session storage) cost about a tenth of an API
    request's middleware time, on every request, and only pages show messages: API calls, event
    streams and /v1/ never touch it. Unused, nothing is read, and nothing is written back."""

    def process_request(self, request):
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    def process_response(self, request, response):
        messages = getattr(request, "_messages", None)
        if isinstance(messages, SimpleLazyObject) and messages._wrapped is empty:
            return response
        return super().process_response(request, response)


class SyncChain:
    """Last in MIDDLEWARE and sync only, so that under ASGI Django runs the whole chain in sync
    mode, in one thread, entered once per request.

    Django adapts each middleware to the mode of the one below it, and its own middlewares in
    async mode run every process_request and process_response through sync_to_async: two thread
    hops each, so an API request made 18 hops in all, and makes 6 with this (WhiteNoise is sync
    only, so the chain was never async throughout). Async views still run on the event loop:
    Django calls them through async_to_sync, and a stream's events are sent from the loop."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)
