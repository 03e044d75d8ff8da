"""One place for generation defaults: the playground page, the jobs API and /v1/ all start from
the model's runtime defaults, and a job records the parameters it runs with."""
import json

import pytest

from models_hub.models import Runtime
from playground import openai_request
from playground import params as generation_params
from playground.models import GenerationJob
from tests.factories import runnable_model


@pytest.fixture
def model(db):
    resource = runnable_model()
    Runtime.objects.filter(resource=resource).update(default_params={"temperature": 0.2, "top_k": 50})
    return resource


def test_a_job_without_parameters_runs_with_the_runtime_defaults(as_user, model, settings):
    settings.REDIS_URL = ""
    response = as_user.post("/api/v1/playground/jobs/", {"model": model.repo_id, "mode": "completion",
                                                         "prompt": "Once"}, format="json")
    assert response.status_code == 202
    params = GenerationJob.objects.get().params
    assert params == {**generation_params.PLATFORM_DEFAULTS, "temperature": 0.2, "top_k": 50}


def test_the_request_overrides_the_runtime_defaults(as_user, model, settings):
    settings.REDIS_URL = ""
    as_user.post("/api/v1/playground/jobs/", {"model": model.repo_id, "mode": "completion", "prompt": "Once",
                                              "params": {"temperature": 0.9}}, format="json")
    assert GenerationJob.objects.get().params["temperature"] == 0.9


def test_v1_sends_only_what_the_request_set(model):
    [job] = openai_request.job_inputs({"model": model.repo_id, "messages": [], "top_p": 0.5, "stop": "\\n"}, "chat")
    assert job["params"] == {"top_p": 0.5, "stop": ["\\n"]}  # no temperature 1.0 of its own


def test_the_playground_page_shows_the_runtime_defaults(client, model):
    page = client.get("/playground/").content.decode()
    defaults = json.loads(page.split('data-defaults="')[1].split('"')[0].replace("&quot;", '"'))
    assert defaults[model.repo_id]["temperature"] == 0.2 and defaults[model.repo_id]["top_k"] == 50


def test_the_folded_parameters_summary_is_in_the_page_itself(client, model):
    """Folded on a phone before any script runs, the summary already says what is in effect."""
    page = client.get("/playground/").content.decode()
    summary = page.split('id="pg-params-summary">')[1].split("<")[0]
    assert summary == "Temperature 0.2 · 256 tokens"


def test_v1_maps_a_negative_seed_onto_the_engines_range_the_same_each_time(model):
    [job] = openai_request.job_inputs({"model": model.repo_id, "messages": [], "seed": -1}, "chat")
    assert job["params"]["seed"] == 2**63 - 1


def test_v1_top_p_zero_is_greedy(model):
    [job] = openai_request.job_inputs({"model": model.repo_id, "messages": [], "top_p": 0, "temperature": 1}, "chat")
    assert "top_p" not in job["params"] and job["params"]["temperature"] == 0
