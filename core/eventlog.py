"""One numbered event log per long job (a generation, an evaluation, a training run), the same in
both modes: a Redis stream in server mode, the `LogEvent` table in embedded mode.

Every event gets the stream's next sequence number (1, 2, …), allocated atomically whoever writes
it, so a reader that reconnects with Last-Event-ID gets exactly the events after it: nothing
twice, nothing lost. Control events (`cancel`) travel in the same log, from the web side to the
worker. A job ends its log with one final event, `done` or `failed`.
"""
from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import AsyncIterator, Awaitable, Callable, Collection

import redis
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone

from . import logtable
from .db import released
from .logreader import BLOCK_MS, FINAL, LogReader, seq_of
from .models import LogEvent

log = logging.getLogger(__name__)

TTL_S = 3600  # how long a log is kept after its latest event (the job's row keeps the result)
CANCEL = "cancel"
# Embedded mode polls the table: quickly while events arrive, backing off while nothing does.
POLL_MIN_S = 0.05
POLL_MAX_S = 0.5
POLL_BACKOFF = 1.5
# Allocate the next number and append under it, atomically, whichever process writes. Every
# append sets the log to expire TTL_S after it, so a log whose final event never came (its
# worker was killed, Redis went away just then) does not stay for ever.
#
# A worker's appends name its attempt's number (ARGV[4]; core.attempts), and the log's `:owner`
# is the highest number that has written it, started it (reset) or taken it over: an append,
# reset or take-over from a lower number is refused (0). So a worker the reaper took for dead,
# still working, writes nothing into (and never resets) the next attempt's log, whichever comes
# first to Redis; an equal number passes (a job handed back is claimed again under the same
# number). The web side's appends (a cancel) name no attempt; the reaper's final event names
# FENCED, so that nothing of any attempt lands after it.
FENCED = 2**31
# KEYS: the log, its `:seq` counter, its `:owner`; ARGV: kind, data, TTL, the writer's number
# ("" for none). The prelude refuses a lower number, and records a higher one as the owner.
_OWNED = """
local owner = tonumber(redis.call('GET', KEYS[3]) or '')
local mine = tonumber(ARGV[4])
if mine and owner and owner > mine then return 0 end
if mine and (not owner or mine > owner) then
  redis.call('SET', KEYS[3], ARGV[4], 'EX', ARGV[3])
  owner = mine
end
"""
_APPEND = _OWNED + """
local seq = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], '0-' .. seq, 'kind', ARGV[1], 'data', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
if owner then redis.call('EXPIRE', KEYS[3], ARGV[3]) end
return seq
"""
_RESET = _OWNED + """
redis.call('DEL', KEYS[1], KEYS[2])
if mine then redis.call('SET', KEYS[3], ARGV[4], 'EX', ARGV[3]) else redis.call('DEL', KEYS[3]) end
return 1
"""
_TAKE_OVER = _OWNED + """
redis.call('SET', KEYS[3], ARGV[4], 'EX', ARGV[3])
return 1
"""


def _keys(stream: str) -> list[str]:
    key = _key(stream)
    return [key, key + ":seq", key + ":owner"]


def _owner_arg(owner: int | None) -> str:
    return "" if owner is None else str(owner)


@dataclass(frozen=True)
class Event:
    seq: int
    kind: str
    data: dict = field(default_factory=dict)


def stream_name(obj) -> str:
    """The log of one job row: unique even if ids restart (a restored or recreated database)."""
    return f"{obj._meta.label_lower}:{obj.pk}:{int(obj.created_at.timestamp() * 1_000_000)}"


def _key(stream: str) -> str:
    return f"llmc:log:{stream}"


_clients: dict[tuple, redis.Redis] = {}
_clients_lock = threading.Lock()


def sync_client(*, timeout: float = 5) -> redis.Redis:
    """This process's client (and connection pool) for REDIS_URL, shared by its threads: a client
    per call (as before) opened a connection each time, a TCP handshake plus redis-py's
    CLIENT SETINFO round trips and its package-version lookup (an importlib.metadata scan)."""
    key = (settings.REDIS_URL, timeout)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=timeout,
                                                          socket_connect_timeout=min(timeout, 2))
        return client


def append(stream: str, kind: str, data: dict | None = None, *, client: redis.Redis | None = None,
           owner: int | None = None) -> int:
    """Append one event to the stream; returns its sequence number, or 0 when `owner` (the
    writing attempt) no longer owns the log."""
    if not settings.REDIS_URL:
        return logtable.append(stream, kind, data, owner=owner)
    (seq,) = append_many([(stream, kind, data, owner)], client=client)
    if isinstance(seq, redis.RedisError):
        raise seq
    return seq


def append_many(entries: list[tuple[str, str, dict | None, int | None]], *,
                client: redis.Redis | None = None) -> list[int | redis.RedisError]:
    """Append several events (stream, kind, data, owner), to one stream or several, in one round
    trip where Redis holds the logs: each entry's sequence number (0: refused, its owner no
    longer owns the log), or the Redis error it met. Raises when Redis cannot be reached at all."""
    if not settings.REDIS_URL:
        return [logtable.append(stream, kind, data, owner=owner) for stream, kind, data, owner in entries]
    pipe = (client or sync_client()).pipeline(transaction=False)
    appends = []  # the position of each entry's append among the pipeline's replies
    for stream, kind, data, owner in entries:
        appends.append(len(pipe))
        pipe.eval(_APPEND, 3, *_keys(stream), kind, json.dumps(data or {}, ensure_ascii=False), TTL_S,
                  _owner_arg(owner))
    replies = pipe.execute(raise_on_error=False)
    return [reply if isinstance(reply, redis.RedisError) else int(reply) for reply in (replies[i] for i in appends)]


def reset(stream: str, *, client: redis.Redis | None = None, owner: int | None = None) -> bool:
    """A new attempt starts a new log (what a dead worker's attempt left is dropped); with
    `owner`, the log is that attempt's from now on. False when a later attempt owns it already
    (nothing changed)."""
    if settings.REDIS_URL:
        return bool((client or sync_client()).eval(_RESET, 3, *_keys(stream), "", "", TTL_S, _owner_arg(owner)))
    return logtable.reset(stream, owner=owner)


def take_over(stream: str, *, owner: int, client: redis.Redis | None = None) -> bool:
    """The log is `owner`'s from now on, kept as it is (a training run resumed by another attempt
    carries on with the same numbers). False when a later attempt owns it already."""
    if settings.REDIS_URL:
        return bool((client or sync_client()).eval(_TAKE_OVER, 3, *_keys(stream), "", "", TTL_S, owner))
    return logtable.take_over(stream, owner=owner)


def prune(*, finished_before: datetime) -> int:
    """Embedded mode: drop the logs that ended before `finished_before` (as Redis expires its
    own TTL_S after the final event). Returns how many events went."""
    return logtable.prune(finished_before=finished_before, final=FINAL)


def request_cancel(row, **cancelled_fields) -> None:
    """Cancel a long job's row (a generation, an evaluation run, a training run): the flag stops
    a worker that claims it later; a queued row is cancelled at once (with `cancelled_fields`); a
    running one hears of it as a `cancel` event in its log (and from the flag, if Redis is down).
    The row is read afresh."""
    model, status = type(row), type(row).Status
    model.objects.filter(pk=row.pk).update(cancel_requested=True)
    if not model.objects.filter(pk=row.pk, status=status.QUEUED).update(
            status=status.CANCELLED, finished_at=timezone.now(), **cancelled_fields):
        row.refresh_from_db(fields=["status"])
        if row.status == status.RUNNING:
            try:
                append(stream_name(row), CANCEL)
            except redis.RedisError:
                pass  # the worker also watches the row's flag
    row.refresh_from_db()


class LogWriter:
    """The worker's writer for one job's log. If Redis goes away mid-job the job goes on: what
    cannot be logged is skipped (one warning in the worker's log) and readers finish from the row."""

    def __init__(self, stream: str, *, fresh: bool = True, owner: int | None = None):
        """`owner`: the writing attempt's number (core.attempts); once a later attempt owns the
        log, this writer's appends are refused and it is `superseded`."""
        self.stream = stream
        self.owner = owner
        self.superseded = False
        self._logging = True
        self._last_seen = 0  # the newest sequence number this writer has read or written
        self._seen_at: float | None = None  # when _last_seen was known to be the log's newest
        self._redis = sync_client() if settings.REDIS_URL else None
        if fresh:
            self.reset()
        elif owner is not None and self._safely(take_over, stream, owner=owner, client=self._redis) is False:
            self.superseded = True

    def append(self, kind: str, data: dict | None = None) -> int | None:
        seq = self._safely(append, self.stream, kind, data, client=self._redis, owner=self.owner)
        if seq is not None:
            self._appended(seq)
        return seq

    def record(self, result: int | redis.RedisError) -> bool:
        """The outcome of an append made for this writer elsewhere (in a batch, `append_many`).
        True when something else (a cancel) was appended since this writer's last event, or the
        append was refused: the writer is superseded."""
        if isinstance(result, redis.RedisError):
            self._failed(result)
            return False
        self._logging = True
        return self._appended(result)

    def _appended(self, seq: int) -> bool:
        if seq == 0:
            self.superseded = True  # another attempt owns the log
            return True
        if seq == self._last_seen + 1:
            # The number after the last this writer knew: nothing else (no cancel) came between.
            self._last_seen, self._seen_at = seq, time.monotonic()
            return False
        self._seen_at = None  # something else was appended: the next look reads it
        return True

    def reset(self) -> None:
        """The job was handed back and will start afresh: forget this attempt."""
        self._last_seen, self._seen_at = 0, None
        if self._safely(reset, self.stream, client=self._redis, owner=self.owner) is False:
            self.superseded = True  # a later attempt owns the log: it is left as it is

    def close(self, kind: str, data: dict | None = None) -> None:
        """The final event ("done" or "failed")."""
        self.append(kind, data)

    def cancel_requested(self, *, unless_seen_within: float = 0.0) -> bool:
        """Whether a `cancel` event has been appended since this writer last looked. Without a
        round trip when the writer knew the log's newest event less than `unless_seen_within`
        seconds ago: a writer appending steadily (a generation's text) looks only when one of its
        appends skipped a number (something else was appended) or it has been quiet that long.
        A superseded writer's attempt must stop too: True."""
        if self.superseded:
            return True
        if self._seen_at is not None and time.monotonic() - self._seen_at < unless_seen_within:
            return False
        return bool(self._safely(self._cancel_in_log))

    def _cancel_in_log(self) -> bool:
        looked_at = time.monotonic()  # what is read below is the log as it was then, or newer
        if self._redis is not None:
            entries = self._redis.xrange(_key(self.stream), min=f"(0-{self._last_seen}", max="+")
            seqs_and_kinds = [(seq_of(entry_id), fields[b"kind"].decode()) for entry_id, fields in entries]
        else:
            seqs_and_kinds = logtable.kinds_after(self.stream, self._last_seen)
        if seqs_and_kinds:
            self._last_seen = seqs_and_kinds[-1][0]
        self._seen_at = looked_at
        return any(kind == CANCEL for _seq, kind in seqs_and_kinds)

    def _safely(self, call, *args, **kwargs):
        try:
            result = call(*args, **kwargs)
        except redis.RedisError as exc:
            self._failed(exc)
            return None
        self._logging = True
        return result

    def _failed(self, exc: redis.RedisError) -> None:
        if self._logging:
            log.warning("%s: its event log is unavailable (%s); the row carries on", self.stream, exc)
            self._logging = False


async def bounded(source: AsyncIterator[Event], *, max_s: float,
                  payload: Callable[[], Awaitable[dict]]) -> AsyncIterator[Event]:
    """`source`'s events for at most `max_s` seconds; past that, `source` is closed and a final
    `timeout` event carries `payload()` (the row as its API shows it; none if the row is gone). A
    job that never starts, or never ends, must not hold a stream, its connection and its client's
    slot for ever."""
    deadline = asyncio.get_running_loop().time() + max_s
    try:
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    event = await anext(source)
            except StopAsyncIteration:
                return
            except TimeoutError:
                break
            yield event
    finally:
        await source.aclose()
    try:
        yield Event(0, "timeout", await payload())  # unnumbered: a reconnect resumes before it
    except ObjectDoesNotExist:
        return


def finished_check(row, finished: Collection[str]) -> Callable[[], Awaitable[bool]]:
    """For `read`: whether the job's row has finished (a status in `finished`) or is gone, read
    afresh at each call, with no database connection held between calls."""
    model = type(row)

    async def is_finished() -> bool:
        status = await released(model.objects.filter(pk=row.pk).values_list("status", flat=True).first)
        return status is None or status in finished
    return is_finished


async def read(stream: str, *, after: int = 0, is_finished: Callable[[], Awaitable[bool]],
               reader: LogReader | None = None) -> AsyncIterator[Event]:
    """The stream's events after sequence number `after`, following the log until a final event.
    Ends without one if the job finished and its log is gone (expired, or never written). Over
    Redis, every log of the event loop is read over one connection (`LogReader.shared()`; a test
    may pass a `reader` of its own)."""
    if settings.REDIS_URL:
        source = _read_redis(stream, after, is_finished, reader or LogReader.shared())
    else:
        source = _read_table(stream, after, is_finished)
    async for event in source:
        yield event


async def _read_redis(stream: str, after: int, is_finished, reader: LogReader) -> AsyncIterator[Event]:
    key = _key(stream)
    inbox = reader.follow(key, after=after)
    try:
        while True:
            try:
                async with asyncio.timeout(BLOCK_MS / 1000):
                    entries = await inbox.get()
            except TimeoutError:
                # A second of silence from a finished job: its final event would have come (the
                # worker writes it right after the row), so the log ends here; the row has the rest.
                if await is_finished():
                    return
                continue
            if isinstance(entries, Exception):
                raise entries
            for entry_id, fields in entries:
                event = Event(seq_of(entry_id), fields[b"kind"].decode(), json.loads(fields[b"data"]))
                yield event
                if event.kind in FINAL:
                    return
    finally:
        reader.stop(key, inbox)


async def _read_table(stream: str, after: int, is_finished) -> AsyncIterator[Event]:
    delay = POLL_MIN_S
    while True:
        rows = await released(lambda: list(LogEvent.objects.filter(stream=stream, seq__gt=after).order_by("seq")
                                           .values_list("seq", "kind", "data")))
        for seq, kind, data in rows:
            after = seq
            yield Event(seq, kind, data)
            if kind in FINAL:
                return
        if not rows and await is_finished():
            # Finished, yet no final event: its log was never written (cancelled while queued,
            # retried out, failed by a reaper); one more look, then the row has the rest.
            if not await released(LogEvent.objects.filter(stream=stream, seq__gt=after).exists):
                return
            continue
        if rows:
            delay = POLL_MIN_S
        await asyncio.sleep(delay)
        if not rows:
            delay = min(delay * POLL_BACKOFF, POLL_MAX_S)
