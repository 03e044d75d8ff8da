"""DELETE /api/repos/delete, as huggingface_hub's HfApi.delete_repo sends it."""
import json

import pytest
from django.test import Client

from core.services import create_token
from models_hub.models import Resource
from tests.factories import ResourceFactory, StaffFactory, UserFactory, runnable_model

pytestmark = pytest.mark.django_db


def hub_client(user) -> Client:
    _token, key = create_token(user=user, name="hf")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def delete(client: Client, **body):
    return client.delete("/api/repos/delete", json.dumps(body), content_type="application/json")


def test_the_owner_deletes_a_repository():
    owner = UserFactory(username="alice")
    ResourceFactory(owner="alice", name="tiny", submitter=owner)
    ResourceFactory(kind="dataset", owner="alice", name="tiny", submitter=owner)
    assert delete(hub_client(owner), name="tiny", organization=None).status_code == 200
    assert list(Resource.objects.values_list("kind", flat=True)) == ["dataset"]  # the model only: type defaults


def test_a_dataset_is_deleted_by_its_type():
    owner = UserFactory(username="alice")
    ResourceFactory(kind="dataset", owner="alice", name="corpus", submitter=owner)
    assert delete(hub_client(owner), name="corpus", type="dataset").status_code == 200
    assert not Resource.objects.exists()


def test_another_member_may_not_delete_it():
    ResourceFactory(owner="alice", name="tiny", submitter=UserFactory(username="alice"))
    response = delete(hub_client(UserFactory()), name="tiny", organization="alice")
    assert response.status_code == 403 and response["X-Error-Code"] == "Forbidden"
    assert Resource.objects.exists()


def test_a_model_that_runs_is_kept_with_a_409():
    runnable_model()
    response = delete(hub_client(StaffFactory()), name="SmolLM2-135M-Instruct", organization="HuggingFaceTB")
    assert response.status_code == 409 and "runtime" in response.json()["error"]
    assert Resource.objects.exists()


@pytest.mark.parametrize("body", [{"name": "nope"}, {"name": "tiny", "organization": "bob"}])
def test_a_missing_repository_is_repo_not_found(body):
    ResourceFactory(owner="alice", name="tiny")
    response = delete(hub_client(UserFactory(username="alice")), **body)
    assert response.status_code == 404 and response["X-Error-Code"] == "RepoNotFound"


def test_deleting_needs_a_token_a_delete_and_a_known_type():
    ResourceFactory(owner="alice", name="tiny")
    assert delete(Client(), name="tiny", organization="alice").status_code == 401
    alice = hub_client(UserFactory(username="alice"))
    assert alice.post("/api/repos/delete", {"name": "tiny"}, content_type="application/json").status_code == 405
    assert delete(alice, name="tiny", type="space").status_code == 400
    assert Resource.objects.exists()


@pytest.mark.parametrize("body", [{"name": "../x"}, {"name": "a\x00"}, {"name": "tiny", "organization": "a\x00"},
                                  {"name": ["tiny"]}, {"name": ""}, {"name": "tiny", "type": ["model"]}])
def test_a_body_that_names_no_repository_is_a_400(body):
    ResourceFactory(owner="alice", name="tiny")
    response = delete(hub_client(UserFactory(username="alice")), **body)
    assert response.status_code == 400 and response["X-Error-Code"] == "BadRequest"
    assert Resource.objects.exists()


def test_creating_under_an_organisation_with_a_nul_is_a_400():
    response = hub_client(StaffFactory()).post("/api/repos/create", json.dumps({"name": "x", "organization": "a\x00"}),
                                               content_type="application/json")
    assert response.status_code == 400 and "organization" in response.json()["error"]
