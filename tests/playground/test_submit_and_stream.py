"""A job submitted with `"stream": true` is answered with its event stream: one request instead of
a POST and a GET (playground.stream_slots.submit_and_stream)."""
import json

import pytest

from playground import eventlog
from playground.models import GenerationJob
from tests.conftest import client_for
from tests.factories import runnable_model
from tests.playground.conftest import read_stream

pytestmark = pytest.mark.django_db

BODY = {"mode": "completion", "prompt": "Once upon", "params": {"max_new_tokens": 4}, "stream": True}


def frames(text: str) -> list[tuple[str | None, str, dict]]:
    """(id, event, data) of each SSE frame."""
    parsed = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        parsed.append((fields.get("id"), fields["event"], json.loads(fields["data"])))
    return parsed


def test_the_answer_is_the_job_then_its_events(user):
    model = runnable_model()
    response = client_for(user).post("/api/v1/playground/jobs/", {**BODY, "model": model.repo_id}, format="json")
    assert response.status_code == 200 and response["Content-Type"] == "text/event-stream"
    job = GenerationJob.objects.get(user=user)
    assert response["Location"] == f"/api/v1/playground/jobs/{job.pk}/"
    eventlog.append(job, "token", {"text": " a time"})
    GenerationJob.objects.filter(pk=job.pk).update(status="succeeded", output=" a time")
    eventlog.append(job, "done")
    (first, token, done) = frames(read_stream(response))
    assert first[:2] == (None, "job") and first[2]["id"] == job.pk and first[2]["status"] == "queued"
    assert token == ("1", "token", {"text": " a time"})
    assert done[:2] == ("2", "done") and done[2]["output"] == " a time"


def test_an_sse_client_s_accept_header_is_served(user):
    client, model = client_for(user), runnable_model()
    bad = client.post("/api/v1/playground/jobs/", {**BODY, "model": "nobody/nothing"}, format="json",
                      HTTP_ACCEPT="text/event-stream")
    assert bad.status_code == 400 and "model" in bad.json()  # JSON, not a 406
    answer = client.post("/api/v1/playground/jobs/", {**BODY, "model": model.repo_id}, format="json",
                         HTTP_ACCEPT="text/event-stream")
    assert answer.status_code == 200 and answer["Content-Type"] == "text/event-stream"
    GenerationJob.objects.filter(user=user).update(status="cancelled")
    read_stream(answer)


def test_past_the_stream_cap_it_is_refused_before_any_job_is_made(user, settings):
    settings.PLAYGROUND_MAX_STREAMS_PER_CLIENT = 1
    client, model = client_for(user), runnable_model()
    held = client.post("/api/v1/playground/jobs/", {**BODY, "model": model.repo_id}, format="json")
    assert held.status_code == 200
    refused = client.post("/api/v1/playground/jobs/", {**BODY, "model": model.repo_id}, format="json")
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert GenerationJob.objects.filter(user=user).count() == 1
    GenerationJob.objects.filter(user=user).update(status="cancelled")  # its stream ends from the row
    read_stream(held)


def test_a_submit_that_fails_gives_its_stream_slot_back(user, settings):
    settings.PLAYGROUND_MAX_STREAMS_PER_CLIENT = 1
    settings.PLAYGROUND_MAX_ACTIVE_JOBS = 0  # the quota refuses the submit after the slot was taken
    client, model = client_for(user), runnable_model()
    assert client.post("/api/v1/playground/jobs/", {**BODY, "model": model.repo_id}, format="json").status_code == 429
    settings.PLAYGROUND_MAX_ACTIVE_JOBS = 4
    answer = client.post("/api/v1/playground/jobs/", {**BODY, "model": model.repo_id}, format="json")
    assert answer.status_code == 200  # the refused submit's slot is free again
    GenerationJob.objects.filter(user=user).update(status="cancelled")
    read_stream(answer)


def test_bad_input_gets_a_400_naming_the_field_and_takes_no_slot(user, settings):
    settings.PLAYGROUND_MAX_STREAMS_PER_CLIENT = 1
    client, model = client_for(user), runnable_model()
    bad = client.post("/api/v1/playground/jobs/", {**BODY, "model": model.repo_id, "stream": "sometimes"},
                      format="json")
    assert bad.status_code == 400 and "stream" in bad.json()
    good = client.post("/api/v1/playground/jobs/", {**BODY, "model": model.repo_id}, format="json")
    assert good.status_code == 200
    GenerationJob.objects.filter(user=user).update(status="cancelled")
    read_stream(good)
