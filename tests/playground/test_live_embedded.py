"""`make run`'s mode end to end: no Redis, so jobs go through kombu's filesystem broker
(config/broker.py) and their events through the event log's table."""
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from core.services import create_token
from playground.models import GenerationJob, JobStatus
from playground.queues import queue_name
from tests.factories import UserFactory, runnable_model
from tests.live import LiveStack, sse_events

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
BURST = 8


@pytest.fixture(scope="module")
def embedded_stack(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        stack = LiveStack(tmp_path_factory.mktemp("embedded"), queues=[queue_name(MODEL)], embedded=True).start()
        yield stack
        stack.stop()


def test_a_burst_of_jobs_all_finish_and_stream(embedded_stack):
    """kombu's own filesystem transport let the worker read a message half written: its consumer
    died in the first burst and no job after it ran."""
    runnable_model()
    # Several people at once: one user may have only a few jobs running (PLAYGROUND_MAX_ACTIVE_JOBS).
    headers = [{"Authorization": f"Token {create_token(user=UserFactory(), name='embedded')[1]}"}
               for _ in range(BURST)]

    def submit(n: int) -> int:
        payload = {"model": MODEL, "mode": "chat", "messages": [{"role": "user", "content": f"Count to {n}."}],
                   "params": {"temperature": 0, "max_new_tokens": 6}}
        response = requests.post(f"{embedded_stack.base_url}/api/v1/playground/jobs/", json=payload,
                                 headers=headers[n], timeout=30)
        assert response.status_code == 202, response.text
        return response.json()["id"]

    with ThreadPoolExecutor(BURST) as pool:
        ids = list(pool.map(submit, range(BURST)))
    for n, job_id in enumerate(ids):
        with requests.get(f"{embedded_stack.base_url}/api/v1/playground/jobs/{job_id}/stream/", headers=headers[n],
                          stream=True, timeout=120) as response:
            events = list(sse_events(response))
        assert events[-1][0] == "done", embedded_stack.worker_log.read_text()[-3000:]
        assert "".join(d["text"] for e, d, _ in events if e == "token") == events[-1][1]["output"]
    assert set(GenerationJob.objects.filter(pk__in=ids).values_list("status", flat=True)) == {JobStatus.SUCCEEDED}
    assert embedded_stack.worker.poll() is None
