"""Staff stop fine-tune jobs and evaluation runs in the admin through the services; the rows
are the workers' to write."""
import pytest
from django.urls import reverse

from evaluation.models import EvaluationRun
from finetune.models import FineTuneJob
from tests.evaluation.factories import finished_run
from tests.factories import UserFactory


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def queued_job(user, base_model, dataset):
    return FineTuneJob.objects.create(user=user, base_model=base_model, dataset=dataset, dataset_revision="a" * 40,
                                      output_name="out", status="queued")


def test_a_queued_fine_tune_is_cancelled_from_the_admin(admin_client, queued_job):
    admin_client.post(reverse("admin:finetune_finetunejob_changelist"),
                      {"action": "cancel", "_selected_action": [queued_job.pk]})
    queued_job.refresh_from_db()
    assert queued_job.status == "cancelled" and queued_job.cancel_requested


def test_a_fine_tunes_fields_are_not_edited_in_the_admin(admin_client, queued_job):
    page = admin_client.get(reverse("admin:finetune_finetunejob_change", args=[queued_job.pk])).content.decode()
    assert 'name="status"' not in page and 'name="params"' not in page and 'name="user"' not in page


def test_a_queued_evaluation_is_cancelled_from_the_admin_and_a_finished_one_is_kept(admin_client):
    queued, done = finished_run(status="queued", metrics={}), finished_run()
    admin_client.post(reverse("admin:evaluation_evaluationrun_changelist"),
                      {"action": "cancel", "_selected_action": [queued.pk, done.pk]})
    assert EvaluationRun.objects.get(pk=queued.pk).status == "cancelled"
    assert EvaluationRun.objects.get(pk=done.pk).status == "succeeded"
    page = admin_client.get(reverse("admin:evaluation_evaluationrun_change", args=[queued.pk])).content.decode()
    assert 'name="status"' not in page
