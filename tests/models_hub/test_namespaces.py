"""A hub namespace held for an organisation, or the system account's name, is not a member's to
take by signing up as it."""
import pytest
from django.core.exceptions import ValidationError

from community.models import User
from models_hub import services
from tests.factories import PASSWORD, ResourceFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_signing_up_as_a_catalogue_namespace_is_refused_whatever_the_case(client):
    ResourceFactory(owner="HuggingFaceTB", name="SmolLM2-135M-Instruct")
    response = client.post("/accounts/signup/", {"username": "huggingfacetb", "email": "x@example.com",
                                                 "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 200 and "This name is taken on the hub" in response.content.decode()
    assert not User.objects.filter(username__iexact="huggingfacetb").exists()


def test_signing_up_as_the_system_account_is_refused(client, settings):
    response = client.post("/accounts/signup/", {"username": settings.HUB_SYSTEM_USERNAME.upper(), "email": "x@example.com",
                                                 "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 200 and "This name is taken on the hub" in response.content.decode()
    assert not User.objects.exists()


def test_a_member_named_like_a_namespace_cannot_publish_into_it():
    member = UserFactory(username="Qwen")  # signed up before the catalogue held the namespace
    ResourceFactory(owner="Qwen", name="Qwen2.5-0.5B", submitter=UserFactory(is_staff=True))
    with pytest.raises(ValidationError) as caught:
        services.save_resource(user=member, data={"kind": "model", "name": "Qwen2.5-7B", "title": "Fake"})
    assert "owner" in caught.value.message_dict


def test_a_member_keeps_publishing_under_their_own_name():
    member = UserFactory(username="alice")
    services.save_resource(user=member, data={"kind": "model", "name": "one", "title": "One"})
    assert services.save_resource(user=member, data={"kind": "model", "name": "two", "title": "Two"}).owner == "alice"
