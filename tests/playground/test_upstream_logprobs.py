"""The `openai` backend passes logprobs, top_logprobs and echo on, and reads them back from the
stream as vLLM sends them (the test upstream, `transformers serve`, ignores them)."""
import json
import time

import pytest

from playground.backends import openai as openai_backend
from playground.backends.base import BackendError, JobInput

BACKEND = openai_backend.OpenAIBackend(base_url="http://upstream/v1", served_model="m")


def job(mode="completion", prompt="Hi there", prompt_ids=None, **params):
    return JobInput(mode=mode, messages=[{"role": "user", "content": "Hi"}], prompt=prompt, prompt_ids=prompt_ids,
                    params={"max_new_tokens": 2, "temperature": 0, **params}, context_length=2048,
                    deadline=time.monotonic() + 60, logprobs_max=100)


class FakeResponse:
    status_code = 200

    def __init__(self, chunks):
        self.lines = [f"data: {json.dumps(c)}" for c in chunks] + ["data: [DONE]"]

    def iter_lines(self, decode_unicode=True):
        yield from self.lines

    def close(self):
        pass


def run(monkeypatch, job_input, chunks):
    sent = {}

    def post(url, json, **kwargs):
        sent.update(url=url, body=json)
        return FakeResponse(chunks)

    monkeypatch.setattr(openai_backend.requests, "post", post)
    deltas = []
    outcome = BACKEND.start(job_input, on_delta=deltas.append).result()
    return sent, outcome, "".join(deltas)


def legacy(tokens, values, tops):
    offsets, at = [], 0
    for t in tokens:
        offsets.append(at)
        at += len(t)
    return {"tokens": tokens, "token_logprobs": values, "top_logprobs": tops, "text_offset": offsets}


def test_echo_and_logprobs_go_upstream_and_the_prompt_comes_off_the_text(monkeypatch):
    chunks = [  # vLLM: the echoed prompt and the first new token in one chunk
        {"choices": [{"index": 0, "text": "Hi there!", "finish_reason": None,
                      "logprobs": legacy(["Hi", " there", "!"], [None, -1.5, -0.5],
                                         [None, {" there": -1.5, " you": -1.0}, {"!": -0.5}])}]},
        {"choices": [{"index": 0, "text": " Bye", "finish_reason": "length",
                      "logprobs": legacy([" Bye"], [-2.0], [{" Bye": -2.0}])}],
         "usage": {"prompt_tokens": 2, "completion_tokens": 2}},
    ]
    sent, outcome, streamed = run(monkeypatch, job(logprobs=True, top_logprobs=1, echo=True), chunks)
    assert sent["url"].endswith("/completions")
    assert sent["body"]["logprobs"] == 1 and sent["body"]["echo"] is True and sent["body"]["prompt"] == "Hi there"
    assert outcome.text == streamed == "! Bye"
    prompt, content = outcome.logprobs["prompt"], outcome.logprobs["content"]
    assert [e["token"] for e in prompt] == ["Hi", " there"] and prompt[0]["logprob"] is None
    assert [t["token"] for t in prompt[1]["top_logprobs"]] == [" you", " there"]  # best first
    assert [(e["token"], e["logprob"]) for e in content] == [("!", -0.5), (" Bye", -2.0)]
    assert content[0]["bytes"] == list(b"!")


def test_a_token_id_prompt_goes_as_ids_and_gets_its_text_back(monkeypatch):
    chunks = [{"choices": [{"index": 0, "text": "Hi there.", "finish_reason": "length",
                            "logprobs": legacy(["Hi", " there", "."], [None, -1.0, -0.1],
                                               [None, {" there": -1.0}, {".": -0.1}])}]}]
    sent, outcome, _ = run(monkeypatch, job(prompt="", prompt_ids=[5, 6], logprobs=True, echo=True), chunks)
    assert sent["body"]["prompt"] == [5, 6] and sent["body"]["logprobs"] == 0
    assert outcome.text == "." and outcome.prompt_text == "Hi there"
    assert len(outcome.logprobs["prompt"]) == 2 and len(outcome.logprobs["content"]) == 1


def test_chat_logprobs_pass_through(monkeypatch):
    entry = {"token": "Hey", "logprob": -0.2, "bytes": [72, 101, 121],
             "top_logprobs": [{"token": "Hey", "logprob": -0.2, "bytes": [72, 101, 121]}]}
    chunks = [{"choices": [{"index": 0, "delta": {"content": "Hey"}, "finish_reason": "stop",
                            "logprobs": {"content": [entry]}}]}]
    sent, outcome, _ = run(monkeypatch, job(mode="chat", logprobs=True, top_logprobs=1), chunks)
    assert sent["url"].endswith("/chat/completions")
    assert sent["body"]["logprobs"] is True and sent["body"]["top_logprobs"] == 1 and "echo" not in sent["body"]
    assert outcome.logprobs == {"content": [entry], "prompt": None}


@pytest.mark.parametrize("params", [{}, {"logprobs": False, "echo": True}])
def test_nothing_is_asked_upstream_without_logprobs(monkeypatch, params):
    chunks = [{"choices": [{"index": 0, "text": "ok", "finish_reason": "stop"}]}]
    sent, outcome, _ = run(monkeypatch, job(**params), chunks)
    assert "logprobs" not in sent["body"] and "echo" not in sent["body"] and outcome.logprobs is None
    assert outcome.text == "ok"


def test_an_upstream_sending_more_log_probabilities_than_the_jobs_share_fails_it(monkeypatch):
    entry = {"token": "a", "logprob": -0.1, "bytes": [97], "top_logprobs": [{"token": "a", "logprob": -0.1}] * 9}
    chunks = [{"choices": [{"index": 0, "delta": {"content": "a"}, "finish_reason": None,
                            "logprobs": {"content": [entry]}}]}] * 11  # 110 values, above the share of 100
    with pytest.raises(BackendError) as raised:
        run(monkeypatch, job(mode="chat", logprobs=True, top_logprobs=9), chunks)
    assert raised.value.code == "invalid_prompt"
