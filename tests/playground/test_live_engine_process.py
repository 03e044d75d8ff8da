"""A worker whose engines run in a process of their own (PLAYGROUND_ENGINE_PROCESS=on, the
default on a GPU), end to end: jobs stream through it, and when that process dies the job it held
fails in words while the worker lives on and starts it again for the next job."""
import os
import signal
import time

import pytest
import requests

from core.services import create_token
from playground.queues import queue_name
from tests.factories import UserFactory, runnable_model
from tests.live import LiveStack, sse_events

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
ENGINE_PROCESS = "spawn_main"  # multiprocessing's spawned child


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        # Its own broker (the filesystem's), so the session's live worker takes none of its jobs.
        stack = LiveStack(tmp_path_factory.mktemp("engine-process"), queues=[queue_name(MODEL)], embedded=True,
                          engine_process=True).start()
        yield stack
        stack.stop()


@pytest.fixture
def headers(db):
    runnable_model()
    return {"Authorization": f"Token {create_token(user=UserFactory(), name='engine-process')[1]}"}


def submit(stack, headers, **params) -> int:
    question = [{"role": "user", "content": "What is the capital of France?"}]
    payload = {"model": MODEL, "mode": "chat", "messages": question, "params": {"temperature": 0, **params}}
    response = requests.post(f"{stack.base_url}/api/v1/playground/jobs/", json=payload, headers=headers, timeout=30)
    assert response.status_code == 202, response.text
    return response.json()["id"]


def stream(stack, headers, job_id: int):
    return requests.get(f"{stack.base_url}/api/v1/playground/jobs/{job_id}/stream/", headers=headers,
                        stream=True, timeout=120)


def test_a_job_streams_through_the_engine_process(stack, headers):
    with stream(stack, headers, submit(stack, headers, max_new_tokens=16)) as response:
        events = list(sse_events(response))
    assert events[-1][0] == "done", stack.worker_log.read_text()[-3000:]
    assert "".join(d["text"] for e, d, _ in events if e == "token") == events[-1][1]["output"]
    assert "Paris" in events[-1][1]["output"]
    assert len(stack.worker_children(ENGINE_PROCESS)) == 1


def test_a_killed_engine_process_fails_its_job_in_words_and_the_next_job_runs(stack, headers):
    job_id = submit(stack, headers, max_new_tokens=400, min_new_tokens=400)
    with stream(stack, headers, job_id) as response:
        events = sse_events(response)
        for event, _data, _id in events:
            if event == "token":
                break
        [engine] = stack.worker_children(ENGINE_PROCESS)
        os.kill(engine, signal.SIGKILL)
        rest = list(events)
    assert rest[-1][0] == "failed", stack.worker_log.read_text()[-3000:]
    assert "process was stopped by SIGKILL" in rest[-1][1]["error"]
    assert stack.worker.poll() is None
    with stream(stack, headers, submit(stack, headers, max_new_tokens=16)) as response:
        events = list(sse_events(response))
    assert events[-1][0] == "done" and "Paris" in events[-1][1]["output"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and engine in stack.worker_children(ENGINE_PROCESS):
        time.sleep(0.2)  # the worker reaps the dead one
    assert engine not in stack.worker_children(ENGINE_PROCESS)
