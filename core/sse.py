"""Server-sent events: one frame per event, and where a reconnecting client left off."""
from __future__ import annotations

import json

from .eventlog import Event


def frame(event: Event) -> bytes:
    """One server-sent event; numbered events carry `id:`, so a reconnect resumes after them."""
    data = json.dumps(event.data, ensure_ascii=False)
    ident = f"id: {event.seq}\n" if event.seq else ""
    return f"{ident}event: {event.kind}\ndata: {data}\n\n".encode()


def last_event_id(request) -> int | None:
    """The Last-Event-ID header (EventSource sends it) or `?last_event_id=`; 0 when absent, None
    when malformed."""
    value = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id") or "0"
    # ASCII digits only: str.isdigit() also takes "²", which int() refuses.
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None
