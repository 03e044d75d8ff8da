"""A running job's heartbeat outlives a database connection that broke under it."""
import time

import pytest
from django.db import OperationalError, connection

from core.heartbeat import start_heartbeat
from playground.models import GenerationJob
from tests.factories import UserFactory, runnable_model

pytestmark = pytest.mark.django_db(transaction=True)  # the heartbeat's thread has a connection of its own


def beats_of(job: GenerationJob, after, timeout_s: float = 5.0):
    """The job's heartbeat once it is newer than `after` (None if it did not move in time)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        beat = GenerationJob.objects.values_list("heartbeat_at", flat=True).get(pk=job.pk)
        if beat is not None and (after is None or beat > after):
            return beat
        time.sleep(0.02)
    return None


class Sessions:
    """The row, and the database session (backend pid) each beat ran in."""

    def __init__(self, rows):
        self.rows, self.pids = rows, []

    def update(self, **fields):
        with connection.cursor() as cursor:  # the heartbeat thread's connection
            cursor.execute("SELECT pg_backend_pid()")
            self.pids.append(cursor.fetchone()[0])
        return self.rows.update(**fields)


def test_the_heartbeat_goes_on_after_postgresql_cut_its_connection():
    job = GenerationJob.objects.create(user=UserFactory(), resource=runnable_model(), mode="completion",
                                       prompt="Once", params={}, status="running")
    row = Sessions(GenerationJob.objects.filter(pk=job.pk, status="running"))
    stop = start_heartbeat(row, every_s=lambda: 0.05, name="test-heartbeat")
    try:
        first = beats_of(job, None)
        assert first is not None
        with connection.cursor() as cursor:  # what a restart, or a proxy's idle timeout, does to it
            cursor.execute("SELECT pg_terminate_backend(%s)", [row.pids[-1]])
        assert beats_of(job, first) is not None
    finally:
        stop.set()


def test_a_beat_that_fails_is_followed_by_the_next():
    updates = []

    class Row:  # a beat that meets a broken connection, then the ones after it
        def update(self, **fields):
            updates.append(fields)
            if len(updates) == 1:
                raise OperationalError("server closed the connection unexpectedly")

    stop = start_heartbeat(Row(), every_s=lambda: 0.01, name="test-heartbeat")
    deadline = time.monotonic() + 5
    while len(updates) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    assert len(updates) >= 3
