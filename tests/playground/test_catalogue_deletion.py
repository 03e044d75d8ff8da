"""Members' runs outlive catalogue edits: a model with runs cannot be deleted from under them."""
import pytest
from django.db.models import ProtectedError

from playground.models import GenerationJob
from tests.factories import UserFactory, runnable_model

pytestmark = pytest.mark.django_db


def test_deleting_a_model_with_runs_is_refused_and_keeps_the_runs():
    model = runnable_model()
    job = GenerationJob.objects.create(user=UserFactory(), resource=model, mode="chat", params={},
                                       output="kept")
    with pytest.raises(ProtectedError):
        model.delete()
    assert GenerationJob.objects.get(pk=job.pk).output == "kept"


def test_a_model_without_runs_can_still_be_deleted():
    model = runnable_model()
    model.delete()
    assert not type(model).objects.filter(pk=model.pk).exists()
