"""/v1/ answers carry OpenAI's x-ratelimit-*-requests headers from the member's hourly quota,
readable by a browser app, so that a client can pace itself before it meets a 429."""
import json

import pytest
from django.test import Client

from core.services import create_token
from playground.openai_request import duration
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db(transaction=True)  # the worker's heartbeat uses its own connection
MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
BODY = {"model": MODEL, "max_tokens": 1, "prompt": "Hello"}


def post(client, body=BODY):
    return client.post("/v1/completions", json.dumps(body), content_type="application/json")


def test_an_answer_says_how_many_requests_are_left_this_hour(v1, settings):
    settings.PLAYGROUND_JOBS_PER_HOUR = 5
    response = post(v1)
    assert response.status_code == 200
    assert (response["x-ratelimit-limit-requests"], response["x-ratelimit-remaining-requests"]) == ("5", "4")
    assert response["x-ratelimit-reset-requests"] in ("59m59s", "1h0m0s")
    assert "x-ratelimit-remaining-requests" in response["Access-Control-Expose-Headers"]


def test_a_batch_of_prompts_counts_once(v1, settings):
    settings.PLAYGROUND_JOBS_PER_HOUR = 5
    response = post(v1, {**BODY, "prompt": ["Hello", "Bye"]})
    assert response["x-ratelimit-remaining-requests"] == "4"


def test_the_refusal_past_the_quota_says_none_are_left(v1, settings):
    settings.PLAYGROUND_JOBS_PER_HOUR = 1
    post(v1)
    response = post(v1)
    assert response.status_code == 429 and response["x-ratelimit-remaining-requests"] == "0"
    assert response["x-ratelimit-reset-requests"] in ("59m59s", "1h0m0s")


def test_a_bad_request_counts_nothing_and_says_nothing(v1):
    response = post(v1, {**BODY, "temperature": "hot"})
    assert response.status_code == 400 and "x-ratelimit-remaining-requests" not in response


def test_staff_have_no_quota_and_get_no_headers(v1):
    _token, key = create_token(user=StaffFactory(), name="k")
    response = post(Client(HTTP_AUTHORIZATION=f"Bearer {key}"))
    assert response.status_code == 200 and "x-ratelimit-limit-requests" not in response


@pytest.mark.parametrize("seconds,written", [(0, "0s"), (0.2, "1s"), (45, "45s"), (360, "6m0s"), (3600, "1h0m0s"),
                                             (3725, "1h2m5s")])
def test_waits_are_written_as_openai_writes_them(seconds, written):
    assert duration(seconds) == written


def test_a_refusal_for_the_jobs_still_running_leaves_the_hours_count_out(v1, user, settings):
    settings.PLAYGROUND_MAX_ACTIVE_JOBS = 0
    response = post(v1)
    assert response.status_code == 429 and "x-ratelimit-remaining-requests" not in response
