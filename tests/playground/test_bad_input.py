"""Hostile or sloppy input is a 400 naming the field, never a 500 (and never a queued job)."""
import json

import pytest
from django.test import Client
from django.utils import timezone

from core.services import create_token
from playground import openai_api
from playground.models import GenerationJob
from tests.factories import runnable_model

pytestmark = pytest.mark.django_db
MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
HI = [{"role": "user", "content": "Hi"}]


def chat(**fields):
    return {"model": MODEL, "messages": HI, **fields}


def completion(**fields):
    return {"model": MODEL, "prompt": "Once", **fields}


# (endpoint, body, the param the error must name)
BAD_BODIES = [
    ("chat", chat(messages="Hi"), "messages"),
    ("chat", chat(messages={"role": "user", "content": "Hi"}), "messages"),
    ("chat", chat(messages=[]), "messages"),
    ("chat", chat(messages=[1]), "messages.[0]"),
    ("chat", chat(messages=[{"role": "user"}]), "messages.[0].content"),
    ("chat", chat(messages=[{"role": "user", "content": {"a": 1}}]), "messages.[0].content"),
    ("chat", chat(messages=[{"role": "user", "content": 5}]), "messages.[0].content"),
    ("chat", chat(messages=[{"role": "robot", "content": "x"}]), "messages.[0].role"),
    ("chat", chat(messages=[{"role": ["user"], "content": "x"}]), "messages.[0].role"),
    ("chat", chat(messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]),
     "messages.[0].content"),
    ("chat", chat(messages=[{"role": "user", "content": []}]), "messages.[0].content"),
    ("chat", chat(messages=[{"role": "user", "content": [{"type": "text", "text": 5}]}]), "messages.[0].content"),
    ("chat", chat(messages=[{"role": "user", "content": ["hi"]}]), "messages.[0].content"),
    ("chat", chat(messages=[{"role": "tool", "content": "x"}]), "messages.[0].role"),
    ("chat", chat(stop=5), "stop"),
    ("chat", chat(stop={"a": 1}), "stop"),
    ("chat", chat(stop=[1, 2]), "stop"),
    ("chat", chat(stop=""), "stop"),
    ("chat", chat(stop=["x" * 1000]), "stop"),
    ("chat", chat(stop=["a", "b", "c", "d", "e"]), "stop"),
    ("chat", chat(max_tokens="abc"), "max_tokens"),
    ("chat", chat(max_tokens="8"), "max_tokens"),
    ("chat", chat(max_tokens=True), "max_tokens"),
    ("chat", chat(max_tokens=1.5), "max_tokens"),
    ("chat", chat(max_tokens=0), "max_tokens"),
    ("chat", chat(max_tokens=10**30), "max_tokens"),
    ("chat", chat(max_completion_tokens=10**30), "max_completion_tokens"),
    ("chat", chat(max_completion_tokens=[8]), "max_completion_tokens"),
    ("chat", chat(temperature=1e308), "temperature"),
    ("chat", chat(temperature="hot"), "temperature"),
    ("chat", chat(top_p=-1), "top_p"),
    ("chat", chat(seed=10**30), "seed"),
    ("chat", chat(seed=-2**63 - 1), "seed"),  # OpenAI takes any 64-bit seed, not beyond
    ("chat", chat(seed="1"), "seed"),
    ("chat", chat(n=2), "n"),
    ("chat", chat(n="x"), "n"),
    ("chat", chat(stream="yes"), "stream"),
    ("chat", chat(stream=True, stream_options="x"), "stream_options"),
    ("chat", chat(stream=True, stream_options={"include_usage": "yes"}), "stream_options"),
    ("chat", chat(model={"a": 1}), "model"),
    ("chat", chat(model=[MODEL]), "model"),
    ("chat", chat(model=None), "model"),
    ("chat", {"messages": HI}, "model"),
    ("completion", completion(prompt={"a": 1}), "prompt"),
    ("completion", completion(prompt=["a", 1]), "prompt"),
    ("completion", completion(prompt=[["a"]]), "prompt"),
    ("completion", completion(prompt=[-1]), "prompt"),
    ("completion", completion(prompt=[]), "prompt"),
    ("completion", completion(prompt=[[]]), "prompt"),
    ("completion", completion(prompt=[[1, 2], []]), "prompt"),
    ("completion", completion(prompt=[[1, True]]), "prompt"),
    ("completion", completion(prompt=[1.5]), "prompt"),
    ("completion", completion(prompt=[[1]] * 33), "prompt"),
    ("completion", completion(prompt=["x", ""]), "prompt"),
    ("completion", completion(prompt=[2**40]), "prompt"),
    ("completion", completion(prompt=list(range(9000))), "prompt"),
    ("completion", completion(logprobs=6), "logprobs"),
    ("completion", completion(logprobs=-1), "logprobs"),
    ("completion", completion(logprobs=True), "logprobs"),
    ("completion", completion(top_logprobs=2), "top_logprobs"),
    ("completion", completion(echo="yes"), "echo"),
    ("completion", completion(max_tokens=0), "max_tokens"),
    ("completion", completion(prompt=[[1, 2]], echo=True, stream=True), "echo"),
    ("chat", chat(logprobs=1), "logprobs"),
    ("chat", chat(logprobs=True, top_logprobs=21), "top_logprobs"),
    ("chat", chat(logprobs=True, top_logprobs=-1), "top_logprobs"),
    ("chat", chat(top_logprobs=2), "top_logprobs"),
    ("chat", chat(echo=True), "echo"),
    ("chat", chat(min_tokens=10**30), "min_tokens"),  # named as sent, never as our serializer calls it
    ("chat", chat(top_k=-5), "top_k"),
    ("chat", chat(repetition_penalty=0), "repetition_penalty"),
    ("chat", chat(messages=[{"role": "user", "content": ""}] * 501), "messages"),
    ("completion", completion(prompt=5), "prompt"),
    ("completion", completion(prompt=None), "prompt"),
    ("completion", completion(prompt=""), "prompt"),
    ("completion", completion(prompt="x\x00y"), "prompt"),
    ("completion", completion(prompt="x" * 40_000), "prompt"),
    ("chat", chat(tools=[{"type": "function", "function": {"name": "f"}}]), "tools"),
    ("chat", chat(tool_choice="required"), "tool_choice"),
    ("chat", chat(response_format={"type": "json_object"}), "response_format"),
    ("chat", chat(frequency_penalty=2.5), "frequency_penalty"),
    ("chat", chat(presence_penalty="high"), "presence_penalty"),
    ("chat", chat(logit_bias={"50256": -100}), "logit_bias"),
    ("chat", chat(modalities=["text", "audio"]), "modalities"),
    ("completion", completion(best_of=3), "best_of"),
    ("completion", completion(suffix="}"), "suffix"),
]
PATHS = {"chat": "/v1/chat/completions", "completion": "/v1/completions"}


@pytest.fixture
def v1(user, monkeypatch):
    runnable_model()
    _token, key = create_token(user=user, name="k")

    def must_not_submit(**kwargs):
        raise AssertionError("a bad body reached the queue")

    monkeypatch.setattr(openai_api.services, "submit_job", must_not_submit)
    monkeypatch.setattr(openai_api.services, "submit_jobs", must_not_submit)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}", raise_request_exception=False)


@pytest.mark.parametrize("endpoint,body,param", BAD_BODIES, ids=[f"{e}-{p}-{i}" for i, (e, _, p) in
                                                                  enumerate(BAD_BODIES)])
def test_bad_openai_bodies_are_400_naming_the_param(v1, endpoint, body, param):
    response = v1.post(PATHS[endpoint], json.dumps(body), content_type="application/json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["param"] == param and error["type"] == "invalid_request_error", error
    assert not GenerationJob.objects.exists()


@pytest.mark.parametrize("raw", [
    b"[" * 100_000 + b"]" * 100_000,  # nested past the recursion limit
    b'{"model": "%s", "prompt": "x", "temperature": NaN}' % MODEL.encode(),
    b'{"model": "%s", "prompt": "x", "max_tokens": Infinity}' % MODEL.encode(),
    b'{"model": "%s", "prompt": "x", "max_tokens": 1%s}' % (MODEL.encode(), b"0" * 5000),  # > int digits limit
    b"[]", b"null", b"1e999", b"\xff\xfe", b"{",
])
def test_unparseable_or_non_object_bodies_are_400(v1, raw):
    response = v1.post("/v1/completions", raw, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize("endpoint,body", [
    ("chat", chat(frequency_penalty=0.0, presence_penalty=0, tools=[], tool_choice="none", logit_bias={},
                  response_format={"type": "text"}, parallel_tool_calls=True, user="u-1")),
    ("completion", completion(best_of=1, suffix="", frequency_penalty=0)),
])
def test_unsupported_parameters_at_their_defaults_are_accepted(user, endpoint, body, monkeypatch):
    runnable_model()
    _token, key = create_token(user=user, name="k")
    submitted = []
    monkeypatch.setattr(openai_api.services, "submit_jobs", lambda **kwargs: submitted.append(kwargs) or
                        openai_api.error("stop here", status=503))
    Client(HTTP_AUTHORIZATION=f"Bearer {key}").post(PATHS[endpoint], json.dumps(body), content_type="application/json")
    assert len(submitted) == 1


def test_an_unknown_model_is_still_404(v1):
    response = v1.post("/v1/chat/completions", json.dumps(chat(model="nobody/nothing")),
                       content_type="application/json")
    assert response.status_code == 404 and response.json()["error"]["code"] == "model_not_found"


# --- the web forms ---------------------------------------------------------------------------
@pytest.fixture
def browser(user):
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.fixture
def job(user):
    return GenerationJob.objects.create(user=user, resource=runnable_model(), mode="chat", messages=HI,
                                        output="Hello", status="succeeded", params={})


@pytest.mark.parametrize("category", ["abc", "", "1.5", "99999999999999999999999", "-1", "1e3", "\x00"])
def test_post_to_forum_with_a_bad_category_is_400_naming_it(browser, job, category):
    response = browser.post(f"/playground/runs/{job.pk}/post/", {"category": category, "title": "t"})
    assert response.status_code == 400
    assert "Category" in response.content.decode() and 'data-testid="post-errors"' in response.content.decode()
    job.refresh_from_db()
    assert job.thread is None and not job.is_public


def test_post_to_forum_with_a_too_long_title_is_400(browser, job, category):
    response = browser.post(f"/playground/runs/{job.pk}/post/", {"category": category.pk, "title": "x" * 1000})
    assert response.status_code == 400 and "Title" in response.content.decode()


def test_posting_a_run_past_a_new_members_day_cap_names_the_wait_in_hours(browser, user, job, category, settings):
    settings.FORUM_RATE_LIMITS = {**settings.FORUM_RATE_LIMITS, "new_user_max_threads_per_day": 0}
    type(user).objects.filter(pk=user.pk).update(date_joined=timezone.now())
    page = browser.post(f"/playground/runs/{job.pk}/post/", {"category": category.pk}, follow=True).content.decode()
    assert "Please try again in 23" in page and "hours" in page and "seconds" not in page
    job.refresh_from_db()
    assert job.thread is None


@pytest.mark.parametrize("page", ["abc", "0", "-1", "99999999999999999999", "1e400", "%00"])
def test_history_with_a_bad_page_is_not_a_500(browser, job, page):
    # A NUL is refused by the site-wide guard (400); every other bad page falls back to a page.
    assert browser.get(f"/playground/runs/?page={page}").status_code in ((400,) if page == "%00" else (200,))
    assert browser.get(f"/api/v1/playground/jobs/?page={page}").status_code in (200, 400, 404)


def test_a_huge_run_id_is_404(browser):
    for url in ("/playground/runs/99999999999999999999999/", "/api/v1/playground/jobs/99999999999999999999999/",
                "/api/v1/playground/jobs/99999999999999999999999/stream/"):
        assert browser.get(url).status_code == 404, url
