"""The shared event log, as any app's job uses it: named streams, numbered events, cancel as an
event, a writer that continues a resumed job's log, and pruning of ended logs (table mode)."""
import time
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings as django_settings
from django.utils import timezone

from core import eventlog
from core.models import LogEvent

MODES = ["table"] + (["redis"] if django_settings.REDIS_URL else [])


@pytest.fixture(params=MODES)
def stream(request, settings, db):
    if request.param == "table":
        settings.REDIS_URL = ""
    name = f"tests.job:{request.node.name}:{timezone.now().timestamp()}"
    yield name
    if request.param == "redis":
        eventlog.reset(name)


def read_all(stream, after=0):
    async def finished():
        return True

    async def collect():
        return [event async for event in eventlog.read(stream, after=after, is_finished=finished)]
    return async_to_sync(collect)()


def test_streams_are_numbered_independently(stream):
    assert [eventlog.append(stream, "progress", {"step": n}) for n in (1, 2)] == [1, 2]
    assert eventlog.append(stream + ":other", "progress") == 1
    eventlog.reset(stream + ":other")


def test_a_reader_after_an_id_gets_exactly_the_rest(stream):
    for step in range(1, 4):
        eventlog.append(stream, "progress", {"step": step})
    eventlog.append(stream, "done", {"loss": 0.5})
    events = read_all(stream, after=2)
    assert [(e.seq, e.kind, e.data) for e in events] == [(3, "progress", {"step": 3}), (4, "done", {"loss": 0.5})]


def test_a_writer_hears_a_cancel_appended_by_the_web_side(stream):
    writer = eventlog.LogWriter(stream)
    writer.append("progress", {"step": 1})
    assert not writer.cancel_requested()
    eventlog.append(stream, eventlog.CANCEL)
    assert writer.cancel_requested()


def test_a_writer_that_just_appended_does_not_read_the_log_within_the_window(stream):
    writer = eventlog.LogWriter(stream)
    writer.append("progress", {"step": 1})  # got the next number: nothing else had been appended
    eventlog.append(stream, eventlog.CANCEL)
    assert not writer.cancel_requested(unless_seen_within=60)  # not read: heard at its next append


def test_an_append_that_skips_a_number_makes_the_writer_read_the_log(stream):
    writer = eventlog.LogWriter(stream)
    writer.append("progress", {"step": 1})
    eventlog.append(stream, eventlog.CANCEL)
    writer.append("progress", {"step": 2})  # number 3: something came between
    assert writer.cancel_requested(unless_seen_within=60)


def test_a_quiet_writer_reads_the_log_once_the_window_has_passed(stream):
    writer = eventlog.LogWriter(stream)
    writer.append("progress", {"step": 1})
    eventlog.append(stream, eventlog.CANCEL)
    time.sleep(0.06)
    assert writer.cancel_requested(unless_seen_within=0.05)


def test_a_fresh_writer_drops_a_dead_attempts_events(stream):
    eventlog.append(stream, "progress", {"step": 7})
    eventlog.LogWriter(stream, fresh=True).append("progress", {"step": 1})
    assert [e.data for e in read_all(stream)] == [{"step": 1}]


def test_a_resuming_writer_continues_the_numbering(stream):
    eventlog.append(stream, "progress", {"step": 7})
    assert eventlog.LogWriter(stream, fresh=False).append("progress", {"step": 8}) == 2


def test_pruning_drops_only_logs_that_ended_long_ago(settings, db):
    settings.REDIS_URL = ""
    for name in ("old", "recent", "running"):
        eventlog.append(name, "progress")
    eventlog.append("old", "done")
    eventlog.append("recent", "failed")
    LogEvent.objects.filter(stream="old").update(created_at=timezone.now() - timedelta(seconds=eventlog.TTL_S + 1))
    assert eventlog.prune(finished_before=timezone.now() - timedelta(seconds=eventlog.TTL_S)) == 2
    assert set(LogEvent.objects.values_list("stream", flat=True)) == {"recent", "running"}


@pytest.mark.skipif(not django_settings.REDIS_URL, reason="the table's logs are pruned by age instead")
def test_a_log_whose_final_event_never_comes_still_expires(db):
    name = f"tests.job:unfinished:{timezone.now().timestamp()}"
    eventlog.append(name, "token", {"text": "a"})  # then the worker is killed: no done, no failed
    client = eventlog.sync_client()
    try:
        for key in (f"llmc:log:{name}", f"llmc:log:{name}:seq"):
            assert 0 < client.ttl(key) <= eventlog.TTL_S
    finally:
        eventlog.reset(name)


REDIS_ONLY = pytest.mark.skipif(not django_settings.REDIS_URL, reason="Redis keys expire; the table is pruned")


@pytest.fixture
def redis_stream(db):
    name = f"tests.job:fenced:{timezone.now().timestamp()}"
    yield name
    eventlog.reset(name)


def test_a_superseded_attempts_appends_are_refused(stream):
    first = eventlog.LogWriter(stream, owner=1)
    first.append("token", {"text": "first "})
    second = eventlog.LogWriter(stream, owner=2)  # the reaper queued the job again; claimed afresh
    second.append("token", {"text": "second"})
    assert first.append("token", {"text": "late"}) == 0
    assert [e.data for e in read_all(stream)] == [{"text": "second"}]


def test_a_superseded_writer_is_told_to_stop(stream):
    first = eventlog.LogWriter(stream, owner=1)
    eventlog.LogWriter(stream, owner=2)
    first.append("token", {"text": "late"})
    assert first.superseded and first.cancel_requested()


def test_a_resumed_attempt_takes_the_log_over_and_keeps_its_events(stream):
    first = eventlog.LogWriter(stream, owner=1)
    first.append("progress", {"step": 1})
    second = eventlog.LogWriter(stream, fresh=False, owner=2)
    assert second.append("resumed", {"step": 1}) == 2
    assert first.append("progress", {"step": 2}) == 0


def test_appends_without_an_owner_reach_an_owned_log(stream):
    """The web side's cancel and the reaper's final event name no attempt."""
    writer = eventlog.LogWriter(stream, owner=3)
    writer.append("token", {"text": "a"})
    assert eventlog.append(stream, eventlog.CANCEL) == 2
    assert writer.cancel_requested() and not writer.superseded


@REDIS_ONLY
def test_a_logs_owner_expires_with_it(redis_stream):
    eventlog.LogWriter(redis_stream, owner=1).append("token", {"text": "a"})
    assert 0 < eventlog.sync_client().ttl(f"llmc:log:{redis_stream}:owner") <= eventlog.TTL_S


def test_an_earlier_attempt_cannot_reset_a_later_attempts_log(stream):
    """The first worker, frozen before it opened its log, wakes after the next one started."""
    later = eventlog.LogWriter(stream, owner=2)
    later.append("token", {"text": "kept"})
    earlier = eventlog.LogWriter(stream, owner=1)
    assert earlier.superseded
    assert later.append("token", {"text": " and more"}) == 2 and not later.superseded
    assert [e.data for e in read_all(stream)] == [{"text": "kept"}, {"text": " and more"}]


def test_a_later_attempt_whose_reset_was_lost_still_wins_the_log(stream):
    earlier = eventlog.LogWriter(stream, owner=1)
    earlier.append("token", {"text": "a"})
    later = eventlog.LogWriter(stream, fresh=False)  # its reset never reached Redis
    later.owner = 2
    assert later.append("token", {"text": "b"}) == 2
    assert earlier.append("token", {"text": "late"}) == 0


def test_a_job_handed_back_is_claimed_again_under_the_same_number(stream):
    eventlog.LogWriter(stream, owner=1).append("token", {"text": "handed back"})
    again = eventlog.LogWriter(stream, owner=1)
    assert not again.superseded and again.append("token", {"text": "afresh"}) == 1


def test_an_earlier_attempt_cannot_take_a_resumed_log_back(stream):
    eventlog.LogWriter(stream, owner=3).append("resumed", {"step": 4})
    assert eventlog.LogWriter(stream, fresh=False, owner=2).superseded


def test_nothing_of_any_attempt_lands_after_the_reapers_final_event(stream):
    writer = eventlog.LogWriter(stream, owner=1)
    writer.append("token", {"text": "a"})
    eventlog.append(stream, "failed", owner=eventlog.FENCED)
    assert writer.append("token", {"text": "late"}) == 0
    assert [e.kind for e in read_all(stream)] == ["token", "failed"]


@REDIS_ONLY
def test_a_log_started_again_under_the_same_number_keeps_its_owner_for_its_whole_life(redis_stream):
    client = eventlog.sync_client()
    eventlog.LogWriter(redis_stream, owner=1)
    client.expire(f"llmc:log:{redis_stream}:owner", 5)  # near its end
    eventlog.LogWriter(redis_stream, owner=1)  # handed back, claimed again
    assert client.ttl(f"llmc:log:{redis_stream}:owner") > 5
