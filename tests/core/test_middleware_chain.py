"""Under ASGI a request crosses between the event loop and a thread a few times, not twice per
middleware (core.middleware.SyncChain)."""
import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref import sync
from django.core.asgi import get_asgi_application

pytestmark = pytest.mark.django_db(transaction=True)  # the request runs in a thread of its own


def test_an_api_request_crosses_into_threads_a_handful_of_times(monkeypatch, category):
    hops = []
    enter = sync.SyncToAsync.__call__

    def counted(self, *args, **kwargs):
        hops.append(self.func)
        return enter(self, *args, **kwargs)

    monkeypatch.setattr(sync.SyncToAsync, "__call__", counted)
    sent: list[dict] = []
    bodies = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive():
        if bodies:
            return bodies.pop()
        await asyncio.sleep(3600)  # a client that stays connected until the answer

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/api/v1/categories/", "query_string": b"", "headers": [],
             "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 5000)}
    with ThreadPoolExecutor(1) as pool:  # a loop of its own, whatever runs in this thread
        pool.submit(asyncio.run, get_asgi_application()(scope, receive, send)).result()
    assert sent[0]["status"] == 200
    # Django's own: the request_started signal, the chain, view middleware, the view, rendering and
    # closing the response; 18 when each of its middlewares ran in async mode.
    assert len(hops) <= 6, [getattr(h, "__qualname__", h) for h in hops]
