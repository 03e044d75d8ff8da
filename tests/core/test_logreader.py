"""Every event log a process follows (SSE streams, a /v1/ request's prompts) is read over one Redis
connection, each follower getting exactly its own log's events from its own position."""
import asyncio
import uuid

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings as django_settings
from django.utils import timezone

from core import eventlog, logreader
from core.logreader import LogReader

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif(not django_settings.REDIS_URL, reason="the table is polled, not read over Redis")]


@pytest.fixture
def streams():
    names = [f"tests.job:followed:{n}:{timezone.now().timestamp()}" for n in range(8)]
    yield names
    for name in names:
        eventlog.reset(name)


@pytest.fixture
def connections(monkeypatch):
    """How many Redis connections this test's readers hold (told apart by a name of their own:
    other processes of a parallel run open and close theirs meanwhile); `kill=True` cuts them."""
    name = f"test-logreader-{uuid.uuid4().hex}"
    from_url = logreader.aioredis.Redis.from_url
    monkeypatch.setattr(logreader.aioredis.Redis, "from_url",
                        lambda url, **options: from_url(url, client_name=name, **options))
    def count(kill: bool = False) -> int:
        mine = [client for client in eventlog.sync_client().client_list() if client["name"] == name]
        for client in mine if kill else []:
            eventlog.sync_client().client_kill_filter(_id=client["id"])
        return len(mine)

    return count


async def never_finished() -> bool:
    return False


async def collect(stream: str, reader: LogReader) -> list:
    return [(event.kind, event.data) async for event in eventlog.read(stream, is_finished=never_finished,
                                                                      reader=reader)]


def test_logs_followed_together_share_one_connection(streams, connections):
    async def scenario():
        reader = LogReader()
        followers = [asyncio.create_task(collect(stream, reader)) for stream in streams]
        await asyncio.sleep(0.3)  # every follower waits on its log
        during = connections()
        for n, stream in enumerate(streams):
            eventlog.append(stream, "token", {"text": f"answer {n}"})
            eventlog.append(stream, "done")
        results = await asyncio.gather(*followers)
        return during, results

    opened, results = async_to_sync(scenario)()
    assert opened == 1
    assert results == [[("token", {"text": f"answer {n}"}), ("done", {})] for n in range(8)]


def test_a_follower_that_joins_later_gets_its_events_at_once(streams, monkeypatch):
    monkeypatch.setattr(logreader, "BLOCK_MS", 20_000)  # the XREAD would block long past the wait below
    first, later = streams[:2]

    async def scenario():
        reader = LogReader()
        following = asyncio.create_task(collect(first, reader))
        await asyncio.sleep(0.2)  # its XREAD blocks
        joining = asyncio.create_task(collect(later, reader))
        await asyncio.sleep(0.1)  # its coming woke the XREAD, which now names both logs
        eventlog.append(later, "done", {"n": 2})
        eventlog.append(first, "done", {"n": 1})
        return await asyncio.wait_for(asyncio.gather(following, joining), timeout=3)

    assert async_to_sync(scenario)() == [[("done", {"n": 1})], [("done", {"n": 2})]]


def test_the_connection_closes_when_the_last_follower_stops(streams, connections):
    async def scenario():
        reader = LogReader()
        followers = [asyncio.create_task(collect(stream, reader)) for stream in streams[:3]]
        for stream in streams[:3]:
            eventlog.append(stream, "done")
        await asyncio.gather(*followers)
        await asyncio.sleep(0.05)  # the loop's last turn closes its connection
        return connections()

    assert async_to_sync(scenario)() == 0


def test_a_cut_connection_is_replaced_without_the_followers_noticing(streams, connections):
    """One connection serves every stream of the process: losing it (a Redis restart, a proxy's
    idle cut) must not send them all to follow their rows."""
    async def scenario():
        reader = LogReader()
        followers = [asyncio.create_task(collect(stream, reader)) for stream in streams[:3]]
        await asyncio.sleep(0.3)  # their XREAD waits
        connections(kill=True)
        await asyncio.sleep(0.1)
        for n, stream in enumerate(streams[:3]):
            eventlog.append(stream, "done", {"n": n})
        return await asyncio.wait_for(asyncio.gather(*followers), timeout=5)

    assert async_to_sync(scenario)() == [[("done", {"n": n})] for n in range(3)]


def test_a_redis_error_reaches_every_follower(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there

    async def scenario():
        reader = LogReader()
        return await asyncio.gather(*(collect(f"tests.job:unreachable:{n}", reader) for n in range(2)),
                                    return_exceptions=True)

    results = async_to_sync(scenario)()
    assert [type(result).__name__ for result in results] == ["ConnectionError", "ConnectionError"]


def test_a_follower_that_comes_while_the_loop_closes_is_read(streams):
    first, later = streams[:2]

    async def scenario():
        reader = LogReader()
        eventlog.append(first, "done", {"n": 1})
        ended = reader.follow(eventlog._key(first), after=0)
        await ended.get()  # its last log ended: the loop closes
        joining = reader.follow(eventlog._key(later), after=0)
        eventlog.append(later, "done", {"n": 2})
        entries = await asyncio.wait_for(joining.get(), timeout=5)
        reader.stop(eventlog._key(first), ended)
        reader.stop(eventlog._key(later), joining)
        return [fields[b"data"] for _id, fields in entries]

    assert async_to_sync(scenario)() == [b'{"n": 2}']


def test_followers_that_stay_are_read_after_one_leaves_early(streams):
    leaving, staying = streams[:2]

    async def scenario():
        reader = LogReader()
        gone = asyncio.create_task(collect(leaving, reader))
        kept = asyncio.create_task(collect(staying, reader))
        await asyncio.sleep(0.2)
        gone.cancel()  # its client went away
        await asyncio.gather(gone, return_exceptions=True)
        eventlog.append(staying, "done", {"n": 2})
        return await asyncio.wait_for(kept, timeout=5)

    assert async_to_sync(scenario)() == [("done", {"n": 2})]


def test_every_stream_of_an_event_loop_shares_its_reader(streams, connections):
    async def scenario():
        followers = [asyncio.create_task(collect(stream, None)) for stream in streams[:4]]
        await asyncio.sleep(0.3)
        during = connections()
        for stream in streams[:4]:
            eventlog.append(stream, "done")
        await asyncio.gather(*followers)
        return during

    assert async_to_sync(scenario)() == 1


def test_followers_of_one_log_each_get_the_rest_from_their_own_position(streams, monkeypatch):
    stream = streams[0]
    for n in range(3):
        eventlog.append(stream, "token", {"text": str(n)})

    async def no_wake(self):
        return None  # the worst case: the XREAD already waiting is not woken before the next event

    monkeypatch.setattr(LogReader, "_wake", no_wake)

    async def follower(after: int) -> list:
        return [(event.seq, event.kind) async for event in
                eventlog.read(stream, after=after, is_finished=never_finished, reader=reader)]

    async def scenario():
        live = asyncio.create_task(follower(3))
        await asyncio.sleep(0.2)  # its XREAD waits, reading the log after 3
        behind = asyncio.create_task(follower(1))  # a reconnect that had seen the first event
        await asyncio.sleep(0.05)
        eventlog.append(stream, "done")  # the waiting XREAD returns with it, and nothing before it
        return await asyncio.wait_for(asyncio.gather(live, behind), timeout=5)

    reader = LogReader()
    live, behind = async_to_sync(scenario)()
    assert live == [(4, "done")]
    assert behind == [(2, "token"), (3, "token"), (4, "done")]
