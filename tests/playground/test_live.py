"""The platform end to end: API → queue → real Celery worker → SSE stream, and the /v1/ API."""
import threading
import time

import pytest
import requests

from core.services import create_token
from playground.models import GenerationJob
from tests.factories import UserFactory, runnable_model
from tests.live import sse_events, sse_frames

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"


@pytest.fixture
def key(live_stack):
    runnable_model()
    _token, key = create_token(user=UserFactory(), name="live")
    return key


def submit(stack, key, **params):
    payload = {"model": MODEL, "mode": "chat", "messages": [{"role": "user", "content": "Tell me about the sea."}],
               "params": {"temperature": 0, **params}}
    response = requests.post(f"{stack.base_url}/api/v1/playground/jobs/", json=payload,
                             headers={"Authorization": f"Token {key}"}, timeout=10)
    assert response.status_code == 202, response.text
    return response.json()["id"]


def stream(stack, key, job_id):
    return requests.get(f"{stack.base_url}/api/v1/playground/jobs/{job_id}/stream/",
                        headers={"Authorization": f"Bearer {key}"}, stream=True, timeout=180)


def wait_for(predicate, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_a_job_streams_tokens_that_add_up_to_its_output(live_stack, key):
    job_id = submit(live_stack, key, max_new_tokens=12)
    with stream(live_stack, key, job_id) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        events = list(sse_events(response))
    kinds = [e for e, _, _ in events]
    assert kinds[-1] == "done" and set(kinds[:-1]) == {"token"} and len(kinds) > 2
    final = events[-1][1]
    assert final["status"] == "succeeded" and final["metrics"]["completion_tokens"] == 12
    assert "".join(d["text"] for e, d, _ in events if e == "token") == final["output"]
    # Tokens arrive over time, not all at the end.
    token_times = [t for e, _, t in events if e == "token"]
    assert token_times[-1] - token_times[0] > 0.1


def test_connecting_late_replays_from_the_start(live_stack, key):
    job_id = submit(live_stack, key, max_new_tokens=6)
    assert wait_for(lambda: GenerationJob.objects.get(pk=job_id).is_finished)
    with stream(live_stack, key, job_id) as response:
        events = list(sse_events(response))
    output = GenerationJob.objects.get(pk=job_id).output
    assert events[-1][0] == "done" and "".join(d["text"] for e, d, _ in events if e == "token") == output


def test_cancel_mid_run(live_stack, key):
    job_id = submit(live_stack, key, max_new_tokens=400, min_new_tokens=400)
    with stream(live_stack, key, job_id) as response:
        events = []
        for event in sse_events(response):
            events.append(event)
            if len(events) == 3:
                requests.post(f"{live_stack.base_url}/api/v1/playground/jobs/{job_id}/cancel/",
                              headers={"Authorization": f"Token {key}"}, timeout=10)
    final = events[-1][1]
    assert events[-1][0] == "done" and final["status"] == "cancelled"
    assert 3 <= final["metrics"]["completion_tokens"] < 400
    assert "".join(d["text"] for e, d, _ in events if e == "token") == final["output"]


def test_others_cannot_stream_a_private_job(live_stack, key):
    job_id = submit(live_stack, key, max_new_tokens=2)
    _token, stranger = create_token(user=UserFactory(), name="x")
    assert stream(live_stack, stranger, job_id).status_code == 404
    assert requests.get(f"{live_stack.base_url}/api/v1/playground/jobs/{job_id}/stream/", timeout=10).status_code == 404
    assert stream(live_stack, "wrong-key", job_id).status_code == 401


def test_many_open_streams_do_not_block_the_server(live_stack, key):
    job_ids = [submit(live_stack, key, max_new_tokens=30, min_new_tokens=30) for _ in range(4)]
    streams = [stream(live_stack, key, j) for j in job_ids]
    started = time.perf_counter()
    assert requests.get(f"{live_stack.base_url}/api/v1/categories/", timeout=10).status_code == 200
    assert time.perf_counter() - started < 5
    for s in streams:
        assert list(sse_events(s))[-1][0] == "done"


def test_a_worker_killed_mid_job_does_not_leave_it_running(live_stack, key):
    job_id = submit(live_stack, key, max_new_tokens=150, min_new_tokens=150)
    assert wait_for(lambda: len(GenerationJob.objects.get(pk=job_id).output) > 0, timeout=120)
    live_stack.kill_worker()
    live_stack.start_worker()
    assert wait_for(lambda: GenerationJob.objects.get(pk=job_id).is_finished, timeout=150)
    job = GenerationJob.objects.get(pk=job_id)
    assert job.status == "succeeded" and job.attempts == 2, (job.status, job.error)
    assert job.completion_tokens == 150


def test_queued_jobs_survive_until_a_worker_takes_them(live_stack, key):
    """Concurrent submissions all finish; none is lost or stuck."""
    results = []

    def one():
        results.append(submit(live_stack, key, max_new_tokens=5))

    threads = [threading.Thread(target=one) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert wait_for(lambda: all(GenerationJob.objects.get(pk=j).status == "succeeded" for j in results))


def test_reconnecting_with_last_event_id_gets_exactly_the_rest(live_stack, key):
    job_id = submit(live_stack, key, max_new_tokens=48, min_new_tokens=48)
    first = []
    with stream(live_stack, key, job_id) as response:
        for frame in sse_frames(response):
            first.append(frame)
            if len(first) == 3:
                break  # the connection drops mid-run
    last_id = first[-1][0]
    with requests.get(f"{live_stack.base_url}/api/v1/playground/jobs/{job_id}/stream/", stream=True, timeout=180,
                      headers={"Authorization": f"Bearer {key}", "Last-Event-ID": str(last_id)}) as response:
        rest = list(sse_frames(response))
    frames = first + rest
    ids = [ident for ident, _e, _d in frames]
    assert ids == list(range(1, len(frames) + 1))  # numbered from 1, nothing twice, nothing skipped
    final = frames[-1][2]
    assert frames[-1][1] == "done" and final["status"] == "succeeded"
    assert "".join(d["text"] for _i, e, d in frames if e == "token") == final["output"]


def test_a_malformed_last_event_id_is_a_400(live_stack, key):
    job_id = submit(live_stack, key, max_new_tokens=2)
    response = requests.get(f"{live_stack.base_url}/api/v1/playground/jobs/{job_id}/stream/", timeout=30,
                            headers={"Authorization": f"Bearer {key}", "Last-Event-ID": "seven"})
    assert response.status_code == 400 and "last_event_id" in response.json()
