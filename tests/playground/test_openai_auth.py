"""/v1/ is CSRF-exempt, so it takes an API key only: a browser session must not be enough."""
import json

import pytest
from django.test import Client

from core.services import create_token
from playground.models import GenerationJob
from tests.factories import runnable_model

pytestmark = pytest.mark.django_db
MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
CHAT = {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4}


def assert_openai_401(response):
    assert response.status_code == 401, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_api_key" and error["type"] == "invalid_request_error"
    assert set(error) == {"message", "type", "param", "code"}


@pytest.mark.parametrize("path,method", [("/v1/models", "get"), ("/v1/chat/completions", "post"),
                                         ("/v1/completions", "post")])
def test_a_signed_in_browser_session_is_not_an_api_key(user, path, method):
    runnable_model()
    browser = Client(enforce_csrf_checks=True)  # as a cross-site form or fetch() would arrive
    browser.force_login(user)
    body = CHAT if path.endswith("chat/completions") else {"model": MODEL, "prompt": "x"}
    response = getattr(browser, method)(path, json.dumps(body), content_type="application/json") \
        if method == "post" else browser.get(path)
    assert_openai_401(response)
    assert not GenerationJob.objects.exists()


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not-a-key",
                                    "Token llmc_nope"])
def test_missing_or_wrong_keys_are_401(user, header):
    client = Client(HTTP_AUTHORIZATION=header) if header else Client()
    client.force_login(user)  # a session alongside changes nothing
    assert_openai_401(client.get("/v1/models"))


@pytest.mark.parametrize("scheme", ["Bearer", "Token", "bearer"])
def test_a_key_works_with_either_scheme(user, scheme):
    runnable_model()
    _token, key = create_token(user=user, name="k")
    response = Client(HTTP_AUTHORIZATION=f"{scheme} {key}").get("/v1/models")
    assert response.status_code == 200 and [m["id"] for m in response.json()["data"]] == [MODEL]


def test_a_browser_apps_preflight_is_allowed_with_the_authorization_header():
    response = Client().options("/v1/chat/completions", HTTP_ORIGIN="https://chat.example",
                                HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                                HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,content-type")
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Allow-Methods"] == "POST"
    assert "Authorization" in response["Access-Control-Allow-Headers"]
    assert not response.has_header("Access-Control-Allow-Credentials")  # no cookie ever counts here


def test_every_v1_answer_may_be_read_by_any_origin_but_still_needs_a_key(user):
    response = Client(HTTP_ORIGIN="https://chat.example").get("/v1/models")
    assert_openai_401(response)
    assert response["Access-Control-Allow-Origin"] == "*"


def test_a_refused_body_and_an_unknown_path_carry_it_too():
    too_large = Client(HTTP_ORIGIN="https://chat.example").post(
        "/v1/chat/completions", b"{}", content_type="application/json", CONTENT_LENGTH=str(10**9))
    unknown = Client(HTTP_ORIGIN="https://chat.example").get("/v1/embeddingz")
    assert (too_large.status_code, unknown.status_code) == (413, 404)
    assert too_large["Access-Control-Allow-Origin"] == unknown["Access-Control-Allow-Origin"] == "*"
