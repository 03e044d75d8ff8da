"""Following Redis event logs: every stream of a web process reads over one connection.

Each reader of a job's log (an SSE stream, each prompt of a `/v1/` request) used to open a Redis
connection of its own and block in an XREAD on it: a connection set up and torn down per stream,
which cost a web process about as much CPU as a quarter of a job submit, and as many connections
as open streams. `LogReader.shared()` is the event loop's one reader: a single blocking XREAD names
every log followed in the process, and hands each follower its own entries.
"""
from __future__ import annotations

import asyncio
import uuid
import weakref
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from django.conf import settings
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

BLOCK_MS = 1000  # how long one XREAD waits for any of the logs
# A reply later than this is taken for a dead connection (a peer gone without a word). A dead or
# cut connection is replaced once at once; if the new one fails too, the followers are told, as
# when Redis is down, and the next follower starts afresh. (redis-py's default, ten retries with
# backoff, would hold every stream of the process for minutes on a half-open connection.)
READ_TIMEOUT_S = BLOCK_MS / 1000 + 4
RETRY = Retry(NoBackoff(), retries=1)
COUNT = 200  # entries read from each log at a time
FINAL = ("done", "failed")  # a log's last event: its follower stops there
WAKE_PREFIX = "llmc:logreader:wake:"  # a reader's own stream, written to wake its blocked XREAD
WAKE_TTL_S = 3600

_shared: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LogReader] = weakref.WeakKeyDictionary()


def seq_of(entry_id: bytes) -> int:
    """A log entry's sequence number (its id is `0-<seq>`)."""
    return int(entry_id.split(b"-", 1)[1])


def _id_key(entry_id: bytes) -> tuple[int, int]:
    """A stream entry id (`<ms>-<n>`) in the order Redis gives them."""
    ms, _, n = entry_id.partition(b"-")
    return int(ms), int(n)


@dataclass(eq=False)
class _Follower:
    position: int  # the last sequence number handed to it
    inbox: asyncio.Queue = field(default_factory=asyncio.Queue)
    ended: bool = False  # it has had its log's final event


class LogReader:
    """Follows Redis stream keys for the current event loop; `follow()` gives one follower a
    queue of its key's entries (batches of (entry_id, fields)), or of the Redis error that stopped
    the reading. A key may have several followers (two tabs on one run, a shared run's viewers),
    each from its own position.

    The XREAD loop runs while any follower waits for more, on a client of its own that closes when
    the loop ends: at once after the last final event, within BLOCK_MS after the last follower
    stopped early (a cancelled XREAD is not always interrupted, so nobody waits on it). A follower
    that comes while an XREAD blocks wakes it (an entry in the reader's own wake stream), so it is
    read at once, not when the block ends."""

    def __init__(self):
        self._followers: dict[bytes, list[_Follower]] = {}
        self._task: asyncio.Task | None = None
        self._client: aioredis.Redis | None = None  # the loop's, while it runs
        self._blocking = False  # an XREAD waits: a follower that comes must wake it
        self._waking = False  # a wake is on its way to the XREAD now waiting
        self._wake_key = f"{WAKE_PREFIX}{uuid.uuid4().hex}".encode()
        self._wake_position = b"0-0"
        self._wakes: set[asyncio.Task] = set()  # referenced until done

    @classmethod
    def shared(cls) -> LogReader:
        """The running event loop's reader (a web process has one loop)."""
        loop = asyncio.get_running_loop()
        reader = _shared.get(loop)
        if reader is None:
            reader = _shared[loop] = cls()
        return reader

    def follow(self, key: str, *, after: int) -> asyncio.Queue:
        """Start following `key` after sequence number `after`; its entries arrive in the queue."""
        follower = _Follower(position=after)
        self._followers.setdefault(key.encode(), []).append(follower)
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._read())
        elif self._blocking and not self._waking:
            self._waking = True
            wake = loop.create_task(self._wake())
            self._wakes.add(wake)
            wake.add_done_callback(self._wakes.discard)
        return follower.inbox

    def stop(self, key: str, inbox: asyncio.Queue) -> None:
        """The follower of `key` with this queue stops; when nobody follows any more, the loop ends."""
        name = key.encode()
        followers = [f for f in self._followers.get(name, ()) if f.inbox is not inbox]
        if followers:
            self._followers[name] = followers
        else:
            self._followers.pop(name, None)
        if not self._followers and self._task is not None:
            self._task.cancel()
            self._task = None

    def _positions(self) -> dict[bytes, bytes]:
        """What the next XREAD asks for: each log from its furthest-behind follower still reading."""
        positions = {name: f"0-{min(f.position for f in followers if not f.ended)}".encode()
                     for name, followers in self._followers.items() if any(not f.ended for f in followers)}
        if positions:
            positions[self._wake_key] = self._wake_position
        return positions

    async def _wake(self) -> None:
        client = self._client
        if client is None:
            return
        try:
            async with client.pipeline(transaction=False) as pipe:
                pipe.xadd(self._wake_key, {"w": "1"}, maxlen=1, approximate=False)
                pipe.expire(self._wake_key, WAKE_TTL_S)
                entry_id, _expires = await pipe.execute()
            if _id_key(entry_id) <= _id_key(self._wake_position):
                # Its ids went back (Redis restarted without its data, or its clock stepped
                # back): read it from the start, or no wake would be seen again.
                self._wake_position = b"0-0"
        except Exception:  # the XREAD ends within BLOCK_MS anyway, and reads the newcomer then
            self._waking = False

    def _deliver(self, replies, positions: dict[bytes, bytes]) -> None:
        """Each follower's entries of the XREAD's `replies`. A follower behind where the XREAD
        read its log from (it came while the XREAD waited) gets nothing yet: the next XREAD
        reads from its position, so it misses nothing."""
        for name, entries in replies or []:
            if name == self._wake_key:
                self._wake_position = entries[-1][0] if entries else self._wake_position
                continue
            read_from = seq_of(positions.get(name, b"0-0"))
            for follower in self._followers.get(name, ()):
                fresh = [entry for entry in entries if seq_of(entry[0]) > follower.position]
                if follower.ended or not fresh or follower.position < read_from:
                    continue  # one ahead of the others has these already, or one read from the next XREAD
                follower.inbox.put_nowait(fresh)
                follower.position = seq_of(fresh[-1][0])
                follower.ended = any(fields[b"kind"].decode() in FINAL for _id, fields in fresh)

    async def _read(self) -> None:
        # A client of its own: asyncio connections belong to one event loop. Opened without
        # CLIENT SETINFO: redis-py would look its own version up in the installed packages'
        # metadata for every connection, and send two commands (errors before Redis 7.2).
        client = self._client = aioredis.Redis.from_url(
            settings.REDIS_URL, lib_name=None, lib_version=None, socket_timeout=READ_TIMEOUT_S,
            socket_connect_timeout=5, socket_keepalive=True, retry=RETRY)
        me = asyncio.current_task()
        try:
            await asyncio.sleep(0)  # followers starting together join before the first XREAD
            while self._task is me and (positions := self._positions()):
                self._blocking = True
                try:
                    replies = await client.xread(positions, block=BLOCK_MS, count=COUNT)
                except Exception as exc:  # Redis down, or anything else: every follower hears of it
                    replies = exc
                finally:
                    if self._task is me:
                        self._blocking = self._waking = False
                if self._task is not me:
                    return  # stopped while it read (and perhaps followed again, by a loop of its own)
                if isinstance(replies, Exception):
                    for followers in self._followers.values():
                        for follower in followers:
                            follower.inbox.put_nowait(replies)
                    self._followers.clear()  # each has been told; a later follower starts afresh
                    return
                self._deliver(replies, positions)
        finally:
            if self._task is me:
                self._task = None  # a follower that comes from now on starts a loop of its own
            if self._client is client:
                self._client = None
                for wake in list(self._wakes):  # a wake still connecting would open a connection nobody closes
                    wake.cancel()
            await asyncio.shield(client.aclose())  # closed even when the loop is cancelled meanwhile
