"""One numbered event log per job, the same in both modes: the table (embedded) and, where the
tests have Redis, a Redis stream (server mode)."""
import time

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings as django_settings

from playground import eventlog, services
from playground.models import GenerationJob
from tests.factories import runnable_model

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


def test_deltas_that_come_together_are_written_as_one_event_after_the_first(job):
    log = eventlog.JobLog(job)
    for _ in range(10):
        log.publish("a")
    log.close("done")
    events = read_all(job)
    assert [(e.seq, e.kind) for e in events] == [(1, "token"), (2, "token"), (3, "done")]
    assert [e.data.get("text") for e in events[:2]] == ["a", "a" * 9]  # the first at once


def test_a_delta_after_a_quiet_spell_is_written_at_once(job):
    log = eventlog.JobLog(job)
    log.publish("first ")
    time.sleep(eventlog.COALESCE_S)
    log.publish("second")  # the last write is old enough: nothing to coalesce it with
    assert [e.data["text"] for e in read_all(job)] == ["first ", "second"]


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


def test_numbers_stay_unique_when_the_web_side_and_the_worker_both_write(job):
    log = eventlog.JobLog(job)
    log.publish("x")
    log.close("done")  # the worker: token, done
    eventlog.append(job, "cancel")  # the web side, afterwards
    assert [e.seq for e in read_all(job)] == [1, 2]  # a reader stops at the final event
    assert eventlog.append(job, "cancel") == 4


def test_a_new_attempt_starts_a_new_log(job):
    eventlog.append(job, "token", {"text": "from a worker that died"})
    eventlog.JobLog(job)
    assert read_all(job) == []
