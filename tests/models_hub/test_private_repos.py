"""Private repositories, as on the Hugging Face Hub: created private (a draft only its owner and
moderators see), then made public by its owner; a public one stays public."""
import json

import pytest
from django.test import Client

from core.services import create_token
from models_hub import services
from models_hub.models import Resource
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def hub(user) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=user, name='hf')[1]}")


def create(client, **body):
    return client.post("/api/repos/create", json.dumps({"name": "secret", **body}), content_type="application/json")


def settings_put(client, user, **body):
    return client.put(f"/api/models/{user.username}/secret/settings", json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("body", [{"private": True}, {"visibility": "private"}])
def test_a_repository_created_private_is_seen_by_its_owner_only(user, body):
    assert create(hub(user), **body).status_code == 200
    resource = Resource.objects.get(name="secret")
    assert not resource.is_published
    assert hub(user).get(f"/api/models/{resource.repo_id}").json()["private"] is True
    assert hub(UserFactory()).get(f"/api/models/{resource.repo_id}")["X-Error-Code"] == "RepoNotFound"
    assert Client().get(resource.get_absolute_url()).status_code == 404


def test_its_owner_makes_it_public(user):
    client = hub(user)
    create(client, private=True)
    assert settings_put(client, user, visibility="public").status_code == 200
    assert Resource.objects.get(name="secret").is_published
    assert Client().get(f"/api/models/{user.username}/secret").json()["private"] is False


def test_a_public_repository_stays_public(user):
    client = hub(user)
    create(client)
    response = settings_put(client, user, private=True)
    assert response.status_code == 400 and "stays public" in response.json()["error"]
    assert Resource.objects.get(name="secret").is_published


def test_only_its_owner_changes_its_settings(user):
    create(hub(user))
    assert settings_put(hub(UserFactory()), user, visibility="public").status_code == 403


@pytest.mark.parametrize("body,param", [({"gated": "auto"}, "gated"), ({"visibility": "protected"}, "visibility"),
                                        ({"private": "yes"}, "private")])
def test_what_this_hub_does_not_offer_is_a_400_naming_it(user, body, param):
    client = hub(user)
    create(client, private=True)
    response = settings_put(client, user, **body)
    assert response.status_code == 400 and response.json()["error"].startswith(param)


def test_the_new_resource_form_makes_a_private_draft(client, user):
    client.force_login(user)
    response = client.post("/hub/new/", {"kind": "model", "name": "secret", "title": "Secret", "private": "on"})
    resource = Resource.objects.get(name="secret")
    assert response["Location"] == resource.get_absolute_url() and not resource.is_published
    assert "private" not in client.get(f"{resource.get_absolute_url()}edit/").context["form"].fields


def test_the_rest_api_creates_a_private_draft_and_says_so(user):
    api = client_for(user)
    response = api.post("/api/v1/resources/", {"kind": "model", "name": "secret", "title": "S", "private": True},
                        format="json")
    assert response.status_code == 201 and response.json()["private"] is True
    resource = Resource.objects.get(name="secret")
    assert api.patch(f"/api/v1/resources/{resource.pk}/", {"private": False}, format="json").status_code == 200
    resource.refresh_from_db()
    assert not resource.is_published  # only …/publish/ publishes it
    services.publish_resource(user=user, resource=resource)
    assert api.get(f"/api/v1/resources/{resource.pk}/").json()["private"] is False
