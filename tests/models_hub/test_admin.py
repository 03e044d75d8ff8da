"""Staff set up runtimes and publish drafts in the admin; a resource's own row is the hub's."""
import pytest
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.urls import reverse

from core import search
from models_hub import services
from models_hub.models import Resource
from tests.conftest import client_for
from tests.factories import ResourceFactory, UserFactory


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _no_inline_rows() -> dict:
    return {f"{prefix}-{key}": value for prefix in ("runtime", "outgoing")
            for key, value in (("TOTAL_FORMS", 0), ("INITIAL_FORMS", 0), ("MIN_NUM_FORMS", 0), ("MAX_NUM_FORMS", 1000))}


def test_saving_a_resource_in_the_admin_keeps_likes_given_meanwhile(admin_client):
    resource = ResourceFactory(likes=2)
    Resource.objects.filter(pk=resource.pk).update(likes=F("likes") + 1)
    response = admin_client.post(reverse("admin:models_hub_resource_change", args=[resource.pk]), _no_inline_rows())
    assert response.status_code == 302
    resource.refresh_from_db()
    assert resource.likes == 3


def test_a_resource_card_is_not_edited_in_the_admin(admin_client):
    resource = ResourceFactory(card="# The card")
    page = admin_client.get(reverse("admin:models_hub_resource_change", args=[resource.pk])).content.decode()
    assert 'name="card"' not in page and 'name="likes"' not in page and 'name="runtime-TOTAL_FORMS"' in page


def test_publishing_a_draft_in_the_admin_lists_it(admin_client):
    draft = ResourceFactory(is_published=False)
    admin_client.post(reverse("admin:models_hub_resource_changelist"),
                      {"action": "publish", "_selected_action": [draft.pk]})
    assert Resource.objects.get(pk=draft.pk).is_published


def test_taking_a_resource_down_in_the_admin_makes_it_a_draft_nobody_else_finds(admin_client, client):
    owner = UserFactory()
    resource = services.save_resource(user=owner, data={"kind": "model", "name": "abusive", "title": "Abusive card"})
    assert search.matching("Abusive", kinds=[search.Kind.RESOURCE]).exists()
    admin_client.post(reverse("admin:models_hub_resource_changelist"),
                      {"action": "take_down", "_selected_action": [resource.pk]})
    assert not Resource.objects.get(pk=resource.pk).is_published
    assert not search.matching("Abusive", kinds=[search.Kind.RESOURCE]).exists()


def test_only_a_moderator_takes_a_resource_down(db):
    resource = ResourceFactory()
    with pytest.raises(PermissionDenied):
        services.take_down(moderator=UserFactory(), resource=resource)


def test_an_owner_cannot_publish_again_what_a_moderator_took_down(client, db):
    owner, moderator = UserFactory(), UserFactory(is_staff=True)
    resource = services.save_resource(user=owner, data={"kind": "model", "name": "abusive", "title": "A"})
    services.take_down(moderator=moderator, resource=resource)
    client.force_login(owner)
    page = client.get(resource.get_absolute_url()).content.decode()
    assert "A moderator took it down" in page and f"{resource.get_absolute_url()}publish/" not in page
    assert client.post(f"{resource.get_absolute_url()}publish/").status_code == 403
    with pytest.raises(PermissionDenied):
        services.publish_resource(user=owner, resource=resource)
    assert not Resource.objects.get(pk=resource.pk).is_published
    services.publish_resource(user=moderator, resource=resource)
    resource.refresh_from_db()
    assert resource.is_published and not resource.is_taken_down


def test_a_publish_that_read_the_resource_before_its_takedown_does_not_undo_it(db):
    owner, moderator = UserFactory(), UserFactory(is_staff=True)
    resource = services.save_resource(user=owner, data={"kind": "model", "name": "abusive", "title": "A"})
    stale = Resource.objects.get(pk=resource.pk)  # as the owner's request read it
    services.take_down(moderator=moderator, resource=resource)
    with pytest.raises(PermissionDenied):
        services.publish_resource(user=owner, resource=stale)
    assert Resource.objects.get(pk=resource.pk).is_taken_down


def test_an_owner_cannot_delete_what_a_moderator_took_down_to_publish_it_again(db):
    owner, moderator = UserFactory(), UserFactory(is_staff=True)
    resource = services.save_resource(user=owner, data={"kind": "model", "name": "abusive", "title": "A"})
    services.take_down(moderator=moderator, resource=resource)
    response = client_for(owner).delete(f"/api/v1/resources/{resource.pk}/")
    assert response.status_code == 403 and Resource.objects.filter(pk=resource.pk).exists()
    services.delete_resource(user=moderator, resource=resource)
    assert not Resource.objects.filter(pk=resource.pk).exists()
