"""One numbered event log per job, the same in both modes: the table (embedded) and, where the
tests have Redis, a Redis stream (server mode)."""
import threading

import pytest
import redis
from asgiref.sync import async_to_sync
from django.conf import settings as django_settings

from playground import eventlog, services
from playground.events import job_events
from playground.models import GenerationJob
from playground.serializers import job_payload
from tests.factories import runnable_model

# The pump writes from a thread of its own, on a connection of its own: the table's rows are
# flushed after each test, not rolled back.
pytestmark = pytest.mark.django_db(transaction=True)
MODES = ["table"] + (["redis"] if django_settings.REDIS_URL else [])


@pytest.fixture(params=MODES)
def mode(request, settings):
    if request.param == "table":
        settings.REDIS_URL = ""
    return request.param


@pytest.fixture
def job(user, mode):
    return GenerationJob.objects.create(user=user, resource=runnable_model(), mode="chat", status="running",
                                        messages=[{"role": "user", "content": "Hi"}], params={})


def read_all(job, after=0):
    async def finished():
        return True

    async def collect():
        return [event async for event in eventlog.read(job, after=after, is_finished=finished)]

    return async_to_sync(collect)()


def test_the_first_text_is_due_at_once_and_what_follows_within_the_window_waits(job):
    log = eventlog.JobLog(job)
    log.add("first ")
    assert log.take(100.0) == "first "
    log.add("second ")
    log.add("third")
    assert log.take(100.0 + eventlog.COALESCE_S / 2) == ""  # coalesced with what comes next
    assert log.take(100.0 + eventlog.COALESCE_S * 1.01) == "second third"


def test_a_delta_after_a_quiet_spell_is_due_at_once(job):
    log = eventlog.JobLog(job)
    log.add("first ")
    log.take(100.0)
    log.add("second")
    assert log.take(100.0 + eventlog.COALESCE_S * 1.01) == "second"


def test_the_pump_writes_every_delta_in_order_then_the_final_event(job):
    log = eventlog.JobLog(job)
    words = [f"w{n} " for n in range(40)]
    for word in words:
        log.deliver(word)
    log.close("done")
    events = read_all(job)
    assert "".join(e.data["text"] for e in events[:-1]) == "".join(words)
    assert events[-1].kind == "done"
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert len(events) <= 3  # a burst is coalesced: the first text at once, the rest together


def test_a_discarded_attempt_leaves_nothing_in_the_log(job):
    log = eventlog.JobLog(job)
    log.deliver("from an attempt handed back")
    log.discard()
    log.deliver("late")  # from a backend letting go: ignored
    log.close("done")
    assert read_all(job) == []


def test_the_pump_outlives_a_log_it_cannot_write(job, mode, monkeypatch):
    def unreachable(entries, client=None):
        raise redis.ConnectionError("no Redis here")

    monkeypatch.setattr(eventlog.eventlog, "append_many", unreachable)
    broken = eventlog.JobLog(job)
    broken.deliver("lost")
    broken.close("done")  # returns: the row has the result
    monkeypatch.undo()
    log = eventlog.JobLog(job)
    log.deliver("kept")
    log.close("done")
    assert [(e.kind, e.data.get("text")) for e in read_all(job)] == [("token", "kept"), ("done", None)]


def test_a_reader_resumes_exactly_after_the_last_event_it_saw(job):
    for text in ("one ", "two ", "three"):
        eventlog.append(job, "token", {"text": text})
    eventlog.append(job, "done")
    rest = read_all(job, after=2)
    assert [(e.seq, e.kind, e.data.get("text")) for e in rest] == [(3, "token", "three"), (4, "done", None)]


def test_cancel_travels_as_an_event_the_worker_reads(job, user):
    log = eventlog.JobLog(job)
    assert not log.cancel_requested()
    services.cancel_job(user=user, job=job)
    assert log.cancel_requested()
    assert not log.cancel_requested()  # each event is seen once


def test_the_pump_stops_a_job_whose_append_skips_past_a_cancel(job, user):
    log = eventlog.JobLog(job)
    stopped = threading.Event()
    log.on_cancel = stopped.set
    services.cancel_job(user=user, job=job)  # event 1, appended by the web side
    log.deliver("text ")  # the pump's append gets number 2: something came between
    assert stopped.wait(5)
    log.close("done")


def test_the_pump_reads_the_log_only_when_an_append_skips_a_number(job):
    log = eventlog.JobLog(job)
    log.on_cancel = lambda: pytest.fail("no cancel was asked for")
    reads = []
    read = log._cancel_in_log
    log._cancel_in_log = lambda: reads.append(1) or read()
    for word in ("one ", "two ", "three"):
        log.deliver(word)
    log.close("done")
    assert reads == []


def test_numbers_stay_unique_when_the_web_side_and_the_worker_both_write(job):
    log = eventlog.JobLog(job)
    log.deliver("x")
    log.close("done")  # the worker: token, done
    eventlog.append(job, "cancel")  # the web side, afterwards
    assert [e.seq for e in read_all(job)] == [1, 2]  # a reader stops at the final event
    assert eventlog.append(job, "cancel") == 4


def test_a_new_attempt_starts_a_new_log(job):
    eventlog.append(job, "token", {"text": "from a worker that died"})
    eventlog.JobLog(job)
    assert read_all(job) == []


def test_the_final_event_shows_the_job_as_its_row_is_at_the_end(job, user):
    """The reader's copy of the job is the one it had at the start; what changed since (the result,
    a share) is read again for the final event."""
    reader_copy = GenerationJob.objects.select_related("resource").get(pk=job.pk)
    eventlog.append(job, "token", {"text": "Hello"})
    services.set_public(user=user, job=job, public=True)
    GenerationJob.objects.filter(pk=job.pk).update(status="succeeded", output="Hello", finish_reason="stop",
                                                   completion_tokens=1, attempts=1)
    eventlog.append(job, "done")

    async def collect():
        return [event async for event in job_events(reader_copy)]

    final = async_to_sync(collect)()[-1]
    assert final.kind == "done"
    assert final.data == job_payload(GenerationJob.objects.select_related("resource").get(pk=job.pk))
    assert final.data["share_url"] and final.data["metrics"]["completion_tokens"] == 1
