"""/v1/ log-probabilities, echo and several prompts per request: the response shapes, with the jobs
run in this process on the real demo model (the live stack and lm-eval's own client are in
test_lm_eval.py)."""
import json

import pytest
import torch
from django.test import Client

from core.exceptions import RateLimited
from core.services import create_token
from models_hub.models import Resource, Runtime
from playground import services
from playground.models import GenerationJob
from tests.factories import UserFactory, runnable_model

from .conftest import SMOLLM_SPEC, read_stream

pytestmark = pytest.mark.django_db(transaction=True)  # the worker's heartbeat uses its own connection
MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"


@pytest.fixture
def tokenizer(registry):
    return registry.get(SMOLLM_SPEC).tokenizer


def post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


def direct_logprobs(registry, ids):
    model = registry.get(SMOLLM_SPEC).model
    with torch.inference_mode():
        return torch.log_softmax(model(input_ids=torch.tensor([ids])).logits[0].float(), dim=-1)


def test_lm_evals_loglikelihood_request(v1, registry, tokenizer):
    """What lm-eval's local-completions sends to score continuations: token-id prompts, echo."""
    prompts = [tokenizer("The capital of France is Paris", add_special_tokens=False)["input_ids"],
               tokenizer("One, two, three", add_special_tokens=False)["input_ids"]]
    response = post(v1, "/v1/completions", {"model": MODEL, "prompt": prompts, "max_tokens": 1, "logprobs": 1,
                                            "echo": True, "temperature": 0, "seed": 1234})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["object"] == "text_completion" and [c["index"] for c in body["choices"]] == [0, 1]
    assert body["usage"]["prompt_tokens"] == sum(len(p) for p in prompts)
    for choice, ids in zip(body["choices"], prompts):
        lp = choice["logprobs"]
        n = len(ids) + 1  # the prompt, echoed, and the one new token
        assert len(lp["tokens"]) == len(lp["token_logprobs"]) == len(lp["top_logprobs"]) == len(lp["text_offset"]) == n
        assert lp["token_logprobs"][0] is None and lp["top_logprobs"][0] is None
        assert lp["tokens"][:len(ids)] == [tokenizer.decode([i]) for i in ids]
        assert all(isinstance(top, dict) and top for top in lp["top_logprobs"][1:])
        assert all(len(top) <= 2 for top in lp["top_logprobs"][1:])  # the best one, and the token itself
        offsets = [0]
        for token in lp["tokens"][:-1]:
            offsets.append(offsets[-1] + len(token))
        assert lp["text_offset"] == offsets
        direct = direct_logprobs(registry, ids)
        for k in range(1, len(ids)):
            assert lp["token_logprobs"][k] == pytest.approx(float(direct[k - 1, ids[k]]), abs=1e-3)
            greedy = int(direct[k - 1].argmax()) == ids[k]
            assert (lp["token_logprobs"][k] == max(lp["top_logprobs"][k].values())) == greedy
        # The text is the prompt, then the new token.
        assert choice["text"].startswith(tokenizer.decode(ids))
    jobs = list(GenerationJob.objects.order_by("id"))
    assert len(jobs) == 2 and jobs[0].request_group == jobs[1].request_group is not None
    assert jobs[0].prompt_ids == prompts[0] and jobs[0].prompt == tokenizer.decode(prompts[0])


def test_several_string_prompts_one_choice_each_in_order(v1):
    response = post(v1, "/v1/completions", {"model": MODEL, "prompt": ["1, 2, 3,", "The sky is"], "max_tokens": 3,
                                            "temperature": 0})
    choices = response.json()["choices"]
    assert [c["index"] for c in choices] == [0, 1] and all(c["logprobs"] is None for c in choices)
    outputs = dict(GenerationJob.objects.values_list("prompt", "output"))
    assert [c["text"] for c in choices] == [outputs["1, 2, 3,"], outputs["The sky is"]]


def test_generation_logprobs_without_echo(v1):
    prompt = "The capital of France is"
    response = post(v1, "/v1/completions", {"model": MODEL, "prompt": prompt, "max_tokens": 4, "logprobs": 3,
                                            "temperature": 0})
    choice = response.json()["choices"][0]
    lp = choice["logprobs"]
    assert "".join(lp["tokens"]).startswith(choice["text"]) and len(lp["tokens"]) >= 1
    assert lp["text_offset"][0] == len(prompt)  # offsets count from the prompt's end
    for token, value, top in zip(lp["tokens"], lp["token_logprobs"], lp["top_logprobs"]):
        assert value <= 0 and len(top) == 3 and top[token] == value == max(top.values())  # greedy


def test_echo_with_no_new_tokens_returns_the_prompts_logprobs(v1, tokenizer):
    prompt = "Hello wörld, 你好"
    response = post(v1, "/v1/completions", {"model": MODEL, "prompt": prompt, "max_tokens": 0, "logprobs": 0,
                                            "echo": True})
    assert response.status_code == 200, response.content
    choice = response.json()["choices"][0]
    ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    assert choice["text"] == prompt and len(choice["logprobs"]["tokens"]) == len(ids)
    assert all(list(top) == [token] for token, top in zip(choice["logprobs"]["tokens"][1:],
                                                            choice["logprobs"]["top_logprobs"][1:]))
    assert response.json()["usage"]["completion_tokens"] == 0


def test_echo_without_logprobs_returns_the_prompt_with_the_text(v1):
    response = post(v1, "/v1/completions", {"model": MODEL, "prompt": "Once upon", "max_tokens": 2, "echo": True})
    choice = response.json()["choices"][0]
    assert choice["text"] == "Once upon" + GenerationJob.objects.get().output and choice["logprobs"] is None


def test_a_stop_string_is_cut_and_the_prompt_not_echoed(v1):
    response = post(v1, "/v1/completions", {"model": MODEL, "prompt": "1, 2, 3, 4,", "max_tokens": 20,
                                            "temperature": 0, "stop": ["7"], "logprobs": 1})
    choice = response.json()["choices"][0]
    assert "7" not in choice["text"] and not choice["text"].startswith("1, 2") and choice["text"]
    assert choice["finish_reason"] == "stop"
    assert "".join(choice["logprobs"]["tokens"]).startswith(choice["text"])


def test_chat_logprobs(v1):
    response = post(v1, "/v1/chat/completions", {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}],
                                                 "max_tokens": 5, "temperature": 0, "logprobs": True,
                                                 "top_logprobs": 3})
    choice = response.json()["choices"][0]
    content = choice["logprobs"]["content"]
    assert choice["logprobs"]["refusal"] is None and content
    for entry in content:
        assert set(entry) == {"token", "logprob", "bytes", "top_logprobs"}
        assert bytes(entry["bytes"]).decode(errors="replace") == entry["token"]
        assert len(entry["top_logprobs"]) == 3 and entry["top_logprobs"][0]["logprob"] == entry["logprob"]
        assert set(entry["top_logprobs"][0]) == {"token", "logprob", "bytes"}
    assert "".join(e["token"] for e in content).startswith(choice["message"]["content"])


def test_chat_without_logprobs_has_none(v1):
    response = post(v1, "/v1/chat/completions", {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}],
                                                 "max_tokens": 2, "logprobs": False})
    assert response.json()["choices"][0]["logprobs"] is None
    assert "logprobs" not in GenerationJob.objects.get().params


def test_streamed_chat_sends_the_logprobs_with_the_last_chunk(v1):
    response = post(v1, "/v1/chat/completions", {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}],
                                                 "max_tokens": 4, "min_tokens": 4, "temperature": 0, "stream": True,
                                                 "logprobs": True, "top_logprobs": 1})
    chunks = [json.loads(line[6:]) for line in read_stream(response).splitlines()
              if line.startswith("data: ") and line != "data: [DONE]"]
    last = [c for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]]
    assert len(last) == 1 and len(last[0]["choices"][0]["logprobs"]["content"]) >= 1
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert "".join(e["token"] for e in last[0]["choices"][0]["logprobs"]["content"]).startswith(text)


def test_streamed_completions_several_prompts_with_echo(v1):
    response = post(v1, "/v1/completions", {"model": MODEL, "prompt": ["Once", "Twice"], "max_tokens": 2,
                                            "temperature": 0, "stream": True, "echo": True, "logprobs": 0,
                                            "stream_options": {"include_usage": True}})
    chunks = [json.loads(line[6:]) for line in read_stream(response).splitlines()
              if line.startswith("data: ") and line != "data: [DONE]"]
    texts = {0: "", 1: ""}
    for chunk in chunks:
        for choice in chunk["choices"]:
            texts[choice["index"]] += choice["text"]
    jobs = list(GenerationJob.objects.order_by("id"))
    assert texts == {0: "Once" + jobs[0].output, 1: "Twice" + jobs[1].output}
    finals = [c["choices"][0] for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]]
    assert sorted(f["index"] for f in finals) == [0, 1]
    assert all(f["logprobs"]["token_logprobs"][0] is None for f in finals)
    assert chunks[-1]["usage"]["completion_tokens"] == sum(j.completion_tokens for j in jobs)


def test_a_multi_prompt_request_is_one_quota_unit(user, settings):
    settings.PLAYGROUND_MAX_ACTIVE_JOBS = 2
    resource = runnable_model()
    GenerationJob.objects.create(user=user, resource=resource, mode="completion", prompt="x", params={},
                                 status="running")
    jobs = services.submit_jobs(user=user, resource=resource, mode="completion", prompts=["a", [1, 2], "c"],
                                params={})
    assert len(jobs) == 3 and len({j.request_group for j in jobs}) == 1
    with pytest.raises(RateLimited):
        services.submit_job(user=user, resource=resource, mode="completion", prompt="d", params={})


def test_an_upstream_runtime_without_logprobs_refuses_them_by_name(user, monkeypatch):
    resource = Resource.objects.create(kind=Resource.Kind.MODEL, owner="local", name="up", title="up")
    runtime = Runtime.objects.create(resource=resource, backend=Runtime.Backend.OPENAI,
                                     base_url="http://127.0.0.1:9/v1", served_model="m")
    monkeypatch.setattr(services, "enqueue", lambda job: None)
    _token, key = create_token(user=UserFactory(), name="k")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    body = {"model": "local/up", "prompt": "x", "max_tokens": 1, "logprobs": 1, "echo": True}
    error = post(client, "/v1/completions", body).json()["error"]
    assert error["param"] == "logprobs" and "does not take" in error["message"]
    runtime.upstream_params = ["logprobs"]
    runtime.save()
    assert post(client, "/v1/completions", body).json()["error"]["param"] == "echo"
    chat = {"model": "local/up", "messages": [{"role": "user", "content": "x"}], "logprobs": True}
    runtime.upstream_params = []
    runtime.save()
    assert post(client, "/v1/chat/completions", chat).json()["error"]["param"] == "logprobs"
    assert not GenerationJob.objects.exists()


def test_a_broker_lost_mid_submit_is_503_and_fails_every_prompts_job(user, lose_the_broker_on_commit):
    runnable_model()
    lose_the_broker_on_commit(services)
    _token, key = create_token(user=user, name="k")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = post(client, "/v1/completions", {"model": MODEL, "prompt": ["a", "b", "c"], "max_tokens": 1})
    assert response.status_code == 503
    assert list(GenerationJob.objects.values_list("status", flat=True)) == ["failed"] * 3
