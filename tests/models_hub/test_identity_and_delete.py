"""Kind, owner and name are a resource's identity (URL, repo id, the playground's model name):
fixed after publishing except by moderators, and fixed for everyone once there is a runtime.
A runnable resource, or one with playground runs, cannot be deleted."""
import pytest

from models_hub import services
from models_hub.models import Resource, Runtime
from playground.models import GenerationJob
from tests.factories import SMOLLM, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine(user):
    return services.save_resource(user=user, data={"kind": "model", "name": "m", "title": "M"})


def patch(client, resource, **fields):
    return client.patch(f"/api/v1/resources/{resource.pk}/", fields, format="json")


@pytest.mark.parametrize("field,value", [("name", "renamed"), ("owner", "someone-else"), ("kind", "dataset")])
def test_a_member_cannot_change_the_identity_of_their_resource(as_user, mine, field, value):
    response = patch(as_user, mine, **{field: value})
    assert response.status_code == 400 and field in response.json()
    assert Resource.objects.get().repo_id == mine.repo_id and Resource.objects.get().kind == "model"


def test_a_member_may_resend_the_identity_unchanged(as_user, mine):
    response = patch(as_user, mine, name="m", owner=mine.owner, kind="model", summary="new")
    assert response.status_code == 200 and response.json()["summary"] == "new"


def test_a_moderator_may_rename_a_resource_without_a_runtime(as_staff, mine):
    response = patch(as_staff, mine, owner="acme", name="renamed")
    assert response.status_code == 200 and response.json()["repo_id"] == "acme/renamed"


@pytest.mark.parametrize("enabled", [True, False])
def test_nobody_renames_a_resource_with_a_runtime(as_staff, mine, enabled):
    Runtime.objects.create(resource=mine, **SMOLLM, enabled=enabled)
    response = patch(as_staff, mine, name="renamed")
    assert response.status_code == 400 and "name" in response.json()
    assert Resource.objects.get().name == "m"


def test_the_edit_form_shows_the_identity_fixed_for_a_runnable_model(client, staff, mine):
    Runtime.objects.create(resource=mine, **SMOLLM)
    client.force_login(staff)
    page = client.get(f"{mine.get_absolute_url()}edit/").content.decode()
    assert 'name="name"' in page and 'name="owner"' in page
    assert page.count(" disabled") >= 3
    client.post(f"{mine.get_absolute_url()}edit/", {"kind": "model", "owner": "x", "name": "y", "title": "T"})
    assert Resource.objects.get().repo_id == mine.repo_id


def test_a_runnable_model_cannot_be_deleted_even_by_staff(as_staff, mine):
    Runtime.objects.create(resource=mine, **SMOLLM)
    response = as_staff.delete(f"/api/v1/resources/{mine.pk}/")
    assert response.status_code == 409 and "runtime" in response.json()["detail"]
    assert Resource.objects.exists()


def test_a_resource_with_playground_runs_cannot_be_deleted(as_user, user, mine):
    Runtime.objects.create(resource=mine, **SMOLLM, enabled=False)
    GenerationJob.objects.create(user=UserFactory(), resource=mine, mode="chat", params={})
    response = as_user.delete(f"/api/v1/resources/{mine.pk}/")
    assert response.status_code == 409 and "runs" in response.json()["detail"]
    assert GenerationJob.objects.count() == 1


def test_with_the_runtime_disabled_and_no_runs_staff_may_delete(as_staff, mine):
    Runtime.objects.create(resource=mine, **SMOLLM, enabled=False)
    assert as_staff.delete(f"/api/v1/resources/{mine.pk}/").status_code == 204
    assert not Resource.objects.exists()


def test_deleting_a_runnable_model_from_its_page_explains_why_not(client, staff, mine):
    Runtime.objects.create(resource=mine, **SMOLLM)
    client.force_login(staff)
    response = client.post(f"{mine.get_absolute_url()}delete/", follow=True)
    assert response.status_code == 200 and "disable its runtime" in response.content.decode()
    assert Resource.objects.exists()


def test_a_resource_with_a_history_of_commits_can_be_deleted(as_user, user, mine):
    services.save_resource(user=user, resource=mine, data={"card": "# M\n\nA second version."})
    services.save_resource(user=user, resource=mine, data={"card": "# M\n\nA third version."})
    assert mine.commits.count() >= 2
    assert as_user.delete(f"/api/v1/resources/{mine.pk}/").status_code == 204
    assert not Resource.objects.exists()
