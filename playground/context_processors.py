"""`unresolved_run_reports` in every template: how many run reports await a moderator (0 for
everyone else), counted only if a template uses it (templates call callables) and at most once
a request. To enable, add "playground.context_processors.moderation" to TEMPLATES'
context_processors; the {% unresolved_run_reports %} tag does the same without a setting."""
from __future__ import annotations

from functools import cache

from .templatetags.playground_moderation import unresolved_count


def moderation(request) -> dict:
    @cache
    def unresolved_run_reports() -> int:
        return unresolved_count(getattr(request, "user", None))

    return {"unresolved_run_reports": unresolved_run_reports}
