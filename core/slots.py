"""How many long responses of a kind (event streams, file downloads) one client may hold open.

Each open response holds one of its client's slots: a cache key taken with an atomic add and
deleted when the response ends. A slot also expires on its own, so that a response whose process
died, or whose client left before its body was read, cannot hold it for ever: SLOT_GRACE_S after
it is taken unless its response starts (`hold`), and `lasts_s` after each hold once it has
(`held` renews it while the response lasts). If the cache is down the count is skipped (fail
open): the responses are bounded otherwise too.
"""
from __future__ import annotations

import asyncio
import ipaddress
import logging
import queue
import threading
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import AsyncIterator, Callable

from asgiref.sync import sync_to_async
from django.core.cache import cache

log = logging.getLogger(__name__)

RETRY_AFTER_S = 5
SLOT_GRACE_S = 60  # a slot outlives its response by this much, then expires by itself


class NoFreeSlot(Exception):
    retry_after = RETRY_AFTER_S


def client_address(request) -> str | None:
    """The address a client is counted by: its IPv4 address, or the first of its IPv6 /64 (one
    subscriber usually holds a whole /64, so a new address from it must not mean a new client:
    new slots, or another five password guesses); None without one. Also django-axes'
    AXES_CLIENT_IP_CALLABLE."""
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR") or "")
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped is None:
        return str(ipaddress.ip_network((address, 64), strict=False).network_address)
    return str(getattr(address, "ipv4_mapped", None) or address)


def client_id(request, user) -> str:
    """Signed-in callers count per account; anonymous ones per address (client_address)."""
    if user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{client_address(request) or 'unknown'}"


@dataclass(frozen=True)
class Slots:
    """One kind of long response: `kind` names its cache keys, `limit()` is how many a client may
    hold at once, `lasts_s()` how long a slot lasts after each `hold` (settings, read each time)."""
    kind: str
    limit: Callable[[], int]
    lasts_s: Callable[[], float]

    def take(self, client: str) -> str | None:
        """A free slot's key, or None when the cache cannot be reached (not counted). Raises
        NoFreeSlot when all of the client's slots are taken."""
        try:
            for slot in range(self.limit()):
                key = f"{self.kind}:{client}:{slot}"
                if cache.add(key, 1, timeout=SLOT_GRACE_S):
                    return key
                if not getattr(cache, "is_available", True):
                    # The deployment's cache fails open (core.cache): with Redis down its add
                    # answers False without raising, as for a slot that is taken.
                    log.warning("%s slots: cache unavailable, not counting", self.kind)
                    return None
        except Exception:  # fail open: a cache outage must not take these responses down with it
            log.warning("%s slots: cache unavailable, not counting", self.kind, exc_info=True)
            return None
        raise NoFreeSlot

    async def acquire(self, client: str) -> str | None:
        """`take`, in one hop to a thread however many slots are tried."""
        return await sync_to_async(self.take)(client)

    async def hold(self, key: str | None) -> None:
        """The slot's response has started (or goes on): the slot lasts `lasts_s()` from now. Until
        the first hold it expires soon: a client that leaves before the response's body is read
        leaves a response that never starts, and so never releases its slot."""
        if key is None:
            return
        try:
            await cache.atouch(key, int(self.lasts_s()) + SLOT_GRACE_S)
        except Exception:
            log.warning("%s: could not extend the slot (it expires sooner)", key, exc_info=True)

    @asynccontextmanager
    async def held(self, key: str | None) -> AsyncIterator[None]:
        """While the response's body goes: the slot held, renewed every half `lasts_s()` by a task
        of its own (a client reading slowly, or not at all, stalls the body, never the renewal),
        and released surely at the end."""
        async def renew() -> None:
            try:
                while True:
                    await self.hold(key)
                    await asyncio.sleep(self.lasts_s() / 2)
            except Exception:  # the slot then expires by itself; the response goes on
                log.warning("%s: could not renew the slot", key, exc_info=True)

        renewing = asyncio.ensure_future(renew()) if key is not None else None
        try:
            yield
        finally:
            if renewing is not None:
                renewing.cancel()
            await release_surely(key)


def release_now(key: str | None) -> None:
    """Give the slot back (from a synchronous view: a slot taken for a response that is not given
    after all; `release` from async code)."""
    if key is None:
        return
    try:
        cache.delete(key)
    except Exception:
        log.warning("%s: could not release the slot (it expires by itself)", key, exc_info=True)


_dropped: queue.SimpleQueue[str] = queue.SimpleQueue()
_releaser_started = threading.Lock()
_releaser: threading.Thread | None = None


def prepare_release_later() -> None:
    """Start the thread that carries out `release_later` (once per process; call it from ordinary
    code, never from a finalizer)."""
    global _releaser
    if _releaser is not None:
        return
    with _releaser_started:
        if _releaser is None:
            _releaser = threading.Thread(target=_release_dropped, name="slot-releaser", daemon=True)
            _releaser.start()


def release_later(key: str) -> None:
    """Give the slot back from a weakref callback or __del__: they run wherever the garbage
    collector happens to run, even inside C code, where a cache call (sockets, context variables)
    is unsafe. SimpleQueue.put is reentrant; the releaser thread does the rest."""
    _dropped.put(key)


def _release_dropped() -> None:
    while True:
        release_now(_dropped.get())


async def release(key: str | None) -> None:
    await sync_to_async(release_now)(key)


_releasing: set[asyncio.Task] = set()  # releases that outlive their request's task (see below)


async def release_surely(key: str | None) -> None:
    """`release`, carried through even when the request's task is cancelled meanwhile. A client
    that closes the connection on the final event (EventSource, an SDK) makes Django cancel the
    request's task, often while the response is still releasing its slot: without this, each
    such response held its slot until it expired, and a few of them locked a member out."""
    task = asyncio.ensure_future(release(key))
    _releasing.add(task)  # the loop keeps only a weak reference to a task
    task.add_done_callback(_releasing.discard)
    await asyncio.shield(task)
