"""/v1/models/{id} and /v1/ paths that do not exist, answered as OpenAI's SDK expects."""
import pytest
from django.test import Client

from core.services import create_token
from models_hub import services
from models_hub.models import Resource
from tests.factories import runnable_model
from tests.models_hub.repo_helpers import commit

pytestmark = pytest.mark.django_db
MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"


@pytest.fixture
def v1(user):
    _token, key = create_token(user=user, name="k")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}", enforce_csrf_checks=True)


def test_a_runnable_model_is_retrieved_by_its_repo_id(v1):
    model = runnable_model()
    assert v1.get(f"/v1/models/{MODEL}").json() == {
        "id": MODEL, "object": "model", "created": int(model.created_at.timestamp()), "owned_by": "HuggingFaceTB"}


def test_a_model_the_caller_may_not_run_is_not_found(v1, other_user):
    model = runnable_model("someone/draft")
    Resource.objects.filter(pk=model.pk).update(is_published=False, submitter=other_user)
    for repo_id in ("someone/draft", "nobody/nothing"):
        response = v1.get(f"/v1/models/{repo_id}")
        assert response.status_code == 404
        assert response.json()["error"] | {"message": None} == {
            "message": None, "type": "invalid_request_error", "param": "model", "code": "model_not_found"}


def test_retrieving_a_model_needs_a_key(user):
    runnable_model()
    browser = Client()
    browser.force_login(user)
    assert browser.get(f"/v1/models/{MODEL}").json()["error"]["code"] == "invalid_api_key"


@pytest.mark.parametrize("method,path", [("get", "/v1/embeddings"), ("post", "/v1/files"), ("get", "/v1/"),
                                         ("post", "/v1/chat/completion")])
def test_an_unknown_path_is_openais_404_not_the_sites_page(v1, method, path):
    response = getattr(v1, method)(path)
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json()["error"]["message"] == f"Invalid URL ({method.upper()} {path})."


@pytest.mark.parametrize("method,path,allowed", [("delete", f"/v1/models/{MODEL}", "GET"), ("post", "/v1/models", "GET"),
                                                ("get", "/v1/chat/completions", "POST"),
                                                ("delete", "/v1/completions", "POST")])
def test_another_method_is_openais_405_naming_the_one_to_use(v1, method, path, allowed):
    runnable_model()
    response = getattr(v1, method)(path)
    assert response.status_code == 405 and response.json()["error"]["message"] == f"Use {allowed}."


def test_a_namespace_called_v1_keeps_its_hub_downloads(user, client):
    user.username = "v1"
    user.save(update_fields=["username"])
    repo = services.save_resource(user=user, data={"kind": "model", "name": "models", "title": "M"})
    commit(repo, user, {"config.json": b"{}"})
    response = client.head("/v1/models/resolve/main/config.json")
    assert response.status_code == 200 and response["Content-Length"] == "2" and response["X-Repo-Commit"]
