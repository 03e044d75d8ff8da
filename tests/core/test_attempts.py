"""The fence around an attempt at a long job: a worker the reaper took for dead, still working,
writes nothing once the job was queued again or claimed afresh."""
import pytest

from core import attempts
from playground.models import GenerationJob
from tests.factories import runnable_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def claimed(user):
    """A job as its first attempt's worker claimed it."""
    job = GenerationJob.objects.create(user=user, resource=runnable_model(), mode="chat", params={},
                                       messages=[{"role": "user", "content": "hi"}])
    GenerationJob.objects.filter(pk=job.pk).update(status="running", attempts=1)
    job.refresh_from_db()
    return job


def test_the_attempt_holding_the_job_records_its_end(claimed):
    assert attempts.finish(claimed, status="succeeded", output="done") == "succeeded"
    claimed.refresh_from_db()
    assert (claimed.status, claimed.output) == ("succeeded", "done")


def test_an_attempt_superseded_by_a_fresh_claim_writes_nothing(claimed):
    GenerationJob.objects.filter(pk=claimed.pk).update(attempts=2, output="the second attempt's")
    assert attempts.finish(claimed, status="succeeded", output="the first attempt's") is None
    row = GenerationJob.objects.get(pk=claimed.pk)
    assert (row.status, row.output, row.finished_at) == ("running", "the second attempt's", None)


def test_an_attempt_whose_job_was_queued_again_holds_nothing(claimed):
    GenerationJob.objects.filter(pk=claimed.pk).update(status="queued")
    assert not attempts.held(claimed).exists()
    assert attempts.finish(claimed, status="failed") is None
