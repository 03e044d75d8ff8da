"""A model's answer as a page shows it: Markdown rendered and sanitised as a post is, without
images or mentions. An answer may be steered by what it read (a prompt injection), and an image
would make every reader's browser fetch a URL the answer chose, with whatever it put in it; a
mention would link a member the model never knew. Cached by text: every reader of a stream, a
shared run or a battle gets the same answer."""
from __future__ import annotations

import hashlib

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache

from core.markdown import render


def answer_html(text: str) -> str:
    if not text:
        return ""
    key = "answer-html:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    html = cache.get(key)
    if html is None:
        html = render(text, images=False, mentions=False).html
        cache.set(key, html, timeout=settings.HIGHLIGHT_CACHE_S)
    return html


async def with_answer_html(payload: dict) -> dict:
    """A stream's final payload (a job's, or an arena side's) for a page: with its answer rendered
    as `output_html` (in a thread: rendering may take the highlighter's whole time budget)."""
    return {**payload, "output_html": await sync_to_async(answer_html)(payload["output"])}
