"""Syntax highlighting with a time limit.

Pygments' lexers are regular expressions, and some take quadratic or cubic time on text made
for it (800 spaces in a `.service` file took 5 s; 8,000 characters of Python, 2 s), while a
thread cannot be stopped inside a regular expression. So every highlight runs in a helper
process (`core.highlight_worker`), one per server process, that is killed when it takes longer
than HIGHLIGHT_TIMEOUT_S; the text is then shown plain. Results, plain ones included, are cached
by content, so a file or a card costs this once; text past HIGHLIGHT_MAX_CHARS is shown plain."""
from __future__ import annotations

import contextvars
import hashlib
import json
import logging
import os
import select
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import pygments
from django.conf import settings
from django.core.cache import cache
from pygments.formatters import HtmlFormatter
from pygments.lexers import TextLexer

log = logging.getLogger(__name__)
PLAIN = ""  # cached for text shown plain
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("highlight_deadline", default=None)


class _Worker:
    """The helper process, started on first use and again after it was killed; one request at a
    time (a request waits for the one before it, within its own time limit)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None

    def run(self, request: dict, timeout: float) -> tuple[str | None, bool]:
        """(html or None, settled): settled when the answer is the text's own (highlighted, no
        such lexer, or out of time), not the want of a process or of a turn."""
        started = time.monotonic()
        if not self._lock.acquire(timeout=timeout):
            return None, False  # busy with others for all of our time: plain, not cached
        try:
            process = self._started()
            if process is None:
                return None, False
            process.stdin.write(json.dumps(request) + "\n")
            process.stdin.flush()
            left = timeout - (time.monotonic() - started)
            ready, _, _ = select.select([process.stdout], [], [], max(left, 0))
            if not ready:
                self._stop()
                return None, True
            answer = json.loads(process.stdout.readline())
            return answer.get("html"), True
        except (OSError, ValueError):
            log.warning("the highlighting process failed; showing text plain", exc_info=True)
            self._stop()
            return None, False
        finally:
            self._lock.release()

    def _started(self) -> subprocess.Popen | None:
        if self._process is not None and self._process.poll() is None:
            return self._process
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "core.highlight_worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, text=True, encoding="utf-8", cwd=settings.BASE_DIR,
                env={**os.environ, "PYTHONPATH": str(settings.BASE_DIR)})
        except OSError:
            log.warning("could not start the highlighting process", exc_info=True)
            self._process = None
        return self._process

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None


_worker = _Worker()


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
    html, settled = _worker.run(request, timeout)
    if settled:
        cache.set(key, html or PLAIN, timeout=settings.HIGHLIGHT_CACHE_S)
    return html


def highlight_or_plain(code: str, *, language: str = "", filename: str = "", **formatter) -> str:
    """`highlight`, or else the same markup without colours (Pygments' plain-text lexer, one
    token for the whole text, takes linear time here)."""
    return (highlight(code, language=language, filename=filename, **formatter)
            or pygments.highlight(code, TextLexer(stripnl=False), HtmlFormatter(**formatter)))
