"""A model server's refusal: where it blames the request (vLLM's 400 for a prompt past the
context), the job fails as the request's fault, worded in the member's language."""
import pytest
from django.utils import translation

from playground.backends import openai as openai_backend

from .test_upstream_logprobs import BACKEND, job


class Refusal:
    def __init__(self, status_code: int, message: str):
        self.status_code, self.message = status_code, message

    def json(self):
        return {"error": {"message": self.message, "type": "BadRequestError"}}

    def close(self):
        pass


def refused(monkeypatch, status_code: int, message: str = "maximum context length is 2048 tokens"):
    monkeypatch.setattr(openai_backend.requests, "post", lambda url, **kwargs: Refusal(status_code, message))
    handle = BACKEND.start(job(), on_delta=lambda text: None)
    assert handle.wait(10)
    return handle.error


@pytest.mark.parametrize("status_code", [400, 413, 422])
def test_a_refusal_that_blames_the_request_has_its_code(monkeypatch, status_code):
    error = refused(monkeypatch, status_code)
    assert error.code == "rejected_by_model_server"
    assert "maximum context length is 2048 tokens" in str(error)


@pytest.mark.parametrize("status_code", [401, 404, 429, 500])
def test_a_refusal_that_is_the_servers_or_ours_has_none(monkeypatch, status_code):
    assert refused(monkeypatch, status_code).code == ""


def test_the_refusal_is_worded_in_the_language_the_job_started_in(monkeypatch):
    with translation.override("zh-hans"):
        error = refused(monkeypatch, 400)
    assert "模型服务器" in str(error)
