"""/v1/ answers a job that failed through the request's own fault (a prompt too long for the
context) with OpenAI's 400, which its SDKs do not retry; the worker words the error in the
member's language. The jobs run here on the real demo model."""
import json

import pytest

from models_hub.models import Runtime
from playground.models import GenerationJob

from .conftest import read_stream

pytestmark = pytest.mark.django_db(transaction=True)  # the worker's heartbeat uses its own connection
MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"


@pytest.fixture
def small_context(v1):
    """The demo model served with a context of 48 tokens: its chat template alone takes about 30."""
    Runtime.objects.filter(resource__name="SmolLM2-135M-Instruct").update(context_length=48)
    return v1


def post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


def test_a_chat_past_the_context_is_a_400_naming_the_messages(small_context):
    response = post(small_context, "/v1/chat/completions", {
        "model": MODEL, "max_tokens": 32, "messages": [{"role": "user", "content": "Say hello."}]})
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["type"], error["code"], error["param"]) == (
        "invalid_request_error", "context_length_exceeded", "messages")
    assert "context of 48" in error["message"]


def test_a_completion_past_the_context_names_the_prompt(small_context):
    response = post(small_context, "/v1/completions", {"model": MODEL, "max_tokens": 45, "prompt": "Once upon a time"})
    assert response.status_code == 400
    assert (response.json()["error"]["code"], response.json()["error"]["param"]) == ("context_length_exceeded", "prompt")


def test_a_streamed_chat_past_the_context_sends_the_code_in_its_error_event(small_context):
    response = post(small_context, "/v1/chat/completions", {
        "model": MODEL, "max_tokens": 32, "stream": True, "messages": [{"role": "user", "content": "Say hello."}]})
    frames = [json.loads(line[6:]) for line in read_stream(response).splitlines()
              if line.startswith("data: {")]
    assert frames[-1]["error"]["code"] == "context_length_exceeded"
    assert frames[-1]["error"]["type"] == "invalid_request_error"


def test_the_job_keeps_its_error_code_for_the_rest_api(small_context, user):
    post(small_context, "/v1/chat/completions", {
        "model": MODEL, "max_tokens": 32, "messages": [{"role": "user", "content": "Say hello."}]})
    job = GenerationJob.objects.get(user=user)
    assert (job.status, job.error_code) == ("failed", "context_length_exceeded")


def test_the_worker_words_the_error_in_the_members_language(small_context, user):
    user.language = "zh-hans"
    user.save(update_fields=["language"])
    response = post(small_context, "/v1/chat/completions", {
        "model": MODEL, "max_tokens": 32, "messages": [{"role": "user", "content": "Say hello."}]})
    assert "超出了模型 48 的上下文长度" in response.json()["error"]["message"]


def test_a_request_for_more_log_probabilities_than_its_share_is_a_400(v1, settings):
    settings.PLAYGROUND_MAX_LOGPROBS = 50  # two prompts: 25 each; each asks (4 + 1) tokens × 6 values
    response = post(v1, "/v1/completions", {"model": MODEL, "max_tokens": 1, "echo": True, "logprobs": 5,
                                            "prompt": ["Once upon a time", "The cat sat on"]})
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("invalid_prompt", "prompt") and "the 25 this prompt may have" in error["message"]


def test_a_request_within_its_share_of_log_probabilities_gets_them(v1, settings):
    settings.PLAYGROUND_MAX_LOGPROBS = 120
    response = post(v1, "/v1/completions", {"model": MODEL, "max_tokens": 1, "echo": True, "logprobs": 5,
                                            "prompt": ["Once upon a time", "The cat sat on"]})
    assert response.status_code == 200
    assert all(len(choice["logprobs"]["tokens"]) > 1 for choice in response.json()["choices"])
