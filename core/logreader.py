"""Following several Redis event logs over one connection: one blocking XREAD names them all.

A reader of one job's log (an SSE stream) holds a connection while it blocks; so did each job of a
request that follows many at once (`/v1/` with up to PLAYGROUND_MAX_PROMPTS_PER_REQUEST prompts),
one connection per prompt. A `LogReader` shared by such a request reads every log it follows
with one XREAD on one connection, and hands each follower its own entries.
"""
from __future__ import annotations

import asyncio

import redis.asyncio as aioredis
from django.conf import settings

BLOCK_MS = 1000  # how long one XREAD waits for any of the logs
COUNT = 200  # entries read from each log at a time
FINAL = ("done", "failed")  # a log's last event: its follower stops there


class LogReader:
    """Follows Redis stream keys for the current event loop; `follow()` gives one key's entries
    (batches of (entry_id, fields)), or the Redis error that stopped the reading. The XREAD loop
    runs while any log is followed and has not ended, on a connection of its own that closes
    when the loop ends: at once after the last final event, within BLOCK_MS after the last
    follower stopped early (a cancelled XREAD is not always interrupted, so nobody waits on it).

    Followers that start together are read together from the first XREAD (the loop starts on
    the event loop's next turn); one that joins while an XREAD blocks is read from the next, at
    most BLOCK_MS later."""

    def __init__(self):
        self._positions: dict[bytes, bytes] = {}  # key -> the last entry id handed out
        self._inboxes: dict[bytes, asyncio.Queue] = {}
        self._task: asyncio.Task | None = None

    def follow(self, key: str, *, after: int) -> asyncio.Queue:
        """Start following `key` after sequence number `after`; its entries arrive in the queue."""
        name = key.encode()
        if name in self._inboxes:
            raise ValueError(f"{key} is followed already")
        self._positions[name] = f"0-{after}".encode()
        inbox = self._inboxes[name] = asyncio.Queue()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._read())
        return inbox

    def stop(self, key: str) -> None:
        """Stop following `key`; when nobody follows any more, the loop ends."""
        name = key.encode()
        self._positions.pop(name, None)
        self._inboxes.pop(name, None)
        if not self._inboxes and self._task is not None:
            self._task.cancel()
            self._task = None

    async def _read(self) -> None:
        # A client of its own: asyncio connections belong to one event loop. Opened without
        # CLIENT SETINFO: redis-py would look its own version up in the installed packages'
        # metadata for every connection, and send two commands (errors before Redis 7.2).
        client = aioredis.Redis.from_url(settings.REDIS_URL, lib_name=None, lib_version=None)
        me = asyncio.current_task()
        try:
            await asyncio.sleep(0)  # followers starting together join before the first XREAD
            while self._positions and self._task is me:
                try:
                    replies = await client.xread(dict(self._positions), block=BLOCK_MS, count=COUNT)
                except Exception as exc:  # Redis down, or anything else: every follower hears of it
                    replies = exc
                if self._task is not me:
                    return  # stopped while it read (and perhaps followed again, by a loop of its own)
                if isinstance(replies, Exception):
                    for inbox in self._inboxes.values():
                        inbox.put_nowait(replies)
                    return
                for name, entries in replies or []:
                    inbox = self._inboxes.get(name)
                    if inbox is None or not entries:  # a follower that left meanwhile gets nothing
                        continue
                    inbox.put_nowait(entries)
                    if any(fields[b"kind"].decode() in FINAL for _id, fields in entries):
                        del self._positions[name]  # ended: no XREAD waits on it again
                    else:
                        self._positions[name] = entries[-1][0]
        finally:
            if self._task is me:
                self._task = None  # a follower that comes from now on starts a loop of its own
            await asyncio.shield(client.aclose())  # closed even when the loop is cancelled meanwhile
