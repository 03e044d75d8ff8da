"""A run's event stream is bounded in time, as a generation's is."""
import json

import pytest

from evaluation.models import EvaluationRun
from tests.conftest import client_for
from tests.playground.conftest import read_stream

from .factories import finished_run

pytestmark = pytest.mark.django_db


@pytest.mark.timeout(60)
def test_a_run_that_never_starts_does_not_stream_for_ever(settings):
    settings.PLAYGROUND_STREAM_MAX_S = 0.5
    run = finished_run(status=EvaluationRun.Status.QUEUED)
    body = read_stream(client_for(run.user).get(f"/api/v1/evaluations/{run.pk}/stream/"))
    event, data = body.strip().split("\n")[-2:]
    assert event == "event: timeout" and json.loads(data.removeprefix("data: "))["status"] == "queued"
