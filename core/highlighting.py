"""Syntax highlighting with a time limit.

Pygments' lexers are regular expressions, and some take quadratic or cubic time on text made
for it (800 spaces in a `.service` file took 5 s; 8,000 characters of Python, 2 s), while a
thread cannot be stopped inside a regular expression. So every highlight runs in a sandbox
(`core.highlight_worker`), one process per server process, killed when it takes longer than
HIGHLIGHT_TIMEOUT_S; the text is then shown plain. Results, plain ones included, are cached
by content, so a file or a card costs this once; text past HIGHLIGHT_MAX_CHARS is shown plain."""
from __future__ import annotations

import contextvars
import hashlib
import json
import time
from contextlib import contextmanager

import pygments
from django.conf import settings
from django.core.cache import cache
from pygments.formatters import HtmlFormatter
from pygments.lexers import TextLexer

from .sandbox import NO_VERDICT, Sandbox

PLAIN = ""  # cached for text shown plain
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("highlight_deadline", default=None)
_worker = Sandbox("core.highlight_worker")


@contextmanager
def budget(seconds: float):
    """At most `seconds` of highlighting for everything inside (a post with many code blocks):
    once spent, the rest is shown plain."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def highlight(code: str, *, language: str = "", filename: str = "", **formatter) -> str | None:
    """Pygments' HTML for `code` (lexed as `language`, or by `filename`; `formatter`: options of
    its HtmlFormatter), or None: no such lexer, text too long, or out of time."""
    if len(code) > settings.HIGHLIGHT_MAX_CHARS:
        return None
    request = {"code": code, "language": language, "filename": "" if language else filename, "formatter": formatter}
    key = "highlight:" + hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()
    cached = cache.get(key)
    if cached is not None:
        return cached or None
    timeout = settings.HIGHLIGHT_TIMEOUT_S
    if (deadline := _deadline.get()) is not None:
        timeout = min(timeout, deadline - time.monotonic())
    if timeout <= 0:
        return None
    answer = _worker.call(request, timeout, full_s=settings.HIGHLIGHT_TIMEOUT_S)
    html = answer.get("result")
    # A verdict on the text itself (highlighted, no such lexer, out of its whole time) is cached;
    # after a wait for another text, or a budget nearly spent, it is plain this time only.
    if answer.get("reason") not in NO_VERDICT:
        cache.set(key, html or PLAIN, timeout=settings.HIGHLIGHT_CACHE_S)
    return html


def highlight_or_plain(code: str, *, language: str = "", filename: str = "", **formatter) -> str:
    """`highlight`, or else the same markup without colours (Pygments' plain-text lexer, one
    token for the whole text, takes linear time here)."""
    return (highlight(code, language=language, filename=filename, **formatter)
            or pygments.highlight(code, TextLexer(stripnl=False), HtmlFormatter(**formatter)))
