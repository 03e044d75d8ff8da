"""The evaluation API without a worker: requests, de-duplication, validation, quotas, cancel,
permissions, samples, discussions."""
from datetime import timedelta

import pytest
from django.utils import timezone

from community.models import Category, Thread
from evaluation import services
from evaluation.models import EvaluationRun
from tests.conftest import client_for
from tests.factories import StaffFactory, UserFactory, runnable_model

from .factories import dataset, finished_run, small_files

pytestmark = pytest.mark.django_db
MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"


@pytest.fixture
def model(db):
    return runnable_model()


@pytest.fixture
def suite_dataset(db):
    return dataset(small_files())


def request_run(client, suite="acme/bench", model=MODEL):
    return client.post("/api/v1/evaluations/", {"model": model, "suite": suite}, format="json")


def test_a_request_is_accepted_and_queued(as_user, model, suite_dataset):
    response = request_run(as_user)
    assert response.status_code == 202
    data = response.json()
    assert data["status"] == "queued" and data["model"] == MODEL and data["suite"] == "acme/bench"
    assert data["dataset_revision"] == suite_dataset.commits.get().sha
    assert data["config"]["max_length"] == 8192 and data["progress"] == {"done": 0, "total": 0}


@pytest.mark.django_db(transaction=True)  # the run is queued when the request's transaction commits
def test_a_broker_lost_after_the_check_is_503_and_fails_the_run(as_user, model, suite_dataset, lose_the_broker_on_commit):
    lose_the_broker_on_commit(services)
    assert request_run(as_user).status_code == 503
    run = EvaluationRun.objects.get()
    assert run.status == "failed" and run.error == "The evaluation queue is unavailable."


def test_an_identical_request_returns_the_same_run(as_user, as_other, model, suite_dataset):
    first = request_run(as_user).json()
    again = request_run(as_other)
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    assert EvaluationRun.objects.count() == 1


def test_a_succeeded_result_is_not_recomputed(as_user, model, suite_dataset):
    run = EvaluationRun.objects.get(pk=request_run(as_user).json()["id"])
    EvaluationRun.objects.filter(pk=run.pk).update(status="succeeded")
    assert request_run(as_user).json()["id"] == run.pk


def test_a_failed_run_can_be_requested_again(as_user, model, suite_dataset):
    run_id = request_run(as_user).json()["id"]
    EvaluationRun.objects.filter(pk=run_id).update(status="failed")
    again = request_run(as_user)
    assert again.status_code == 202 and again.json()["id"] != run_id


def test_a_new_dataset_revision_is_a_new_run(as_user, model, suite_dataset):
    from models_hub.repos.commits import Changes, commit_files
    from models_hub.repos.storage import spool_bytes, store

    first = request_run(as_user).json()["id"]
    commit_files(resource=suite_dataset, user=None, title="more", check_permission=False,
                 changes=Changes(additions=[("notes.txt", store(spool_bytes(b"x", label="notes.txt")))]))
    assert request_run(as_user).json()["id"] != first


def test_signing_in_is_required(api, model, suite_dataset):
    assert request_run(api).status_code == 401


@pytest.mark.parametrize("payload,field", [
    ({"model": "nobody/nothing", "suite": "acme/bench"}, "model"),
    ({"model": MODEL, "suite": "nobody/nothing"}, "suite"),
    ({"suite": "acme/bench"}, "model"),
])
def test_bad_input_is_a_400_naming_the_field(as_user, model, suite_dataset, payload, field):
    response = as_user.post("/api/v1/evaluations/", payload, format="json")
    assert response.status_code == 400 and field in response.json()


def test_a_model_that_cannot_run_is_refused(as_user, suite_dataset):
    from tests.factories import ResourceFactory

    ResourceFactory(owner="plain", name="model")
    response = request_run(as_user, model="plain/model")
    assert response.status_code == 400 and "model" in response.json()


def test_a_bad_declaration_is_a_400_naming_its_field(as_user, model):
    files = small_files()
    files["eval.yaml"] = files["eval.yaml"].replace(b"metrics: [bleu, chrf]", b"metrics: [rouge]")
    dataset(files, name="broken")
    response = request_run(as_user, suite="acme/broken")
    assert response.status_code == 400
    assert response.json() == {"suite.tasks[0].metrics": [
        "Metrics of a generate task: bleu, chrf, exact_match."]}
    assert not EvaluationRun.objects.exists()


def test_a_dataset_without_a_suite_is_refused(as_user, model):
    dataset({"data.jsonl": b"{}\n"}, name="plain")
    response = request_run(as_user, suite="acme/plain")
    assert response.status_code == 400 and "suite" in response.json()


def test_the_active_quota_is_enforced_and_staff_are_exempt(as_user, user, model, settings):
    settings.EVALUATION_MAX_ACTIVE_RUNS = 1
    dataset(small_files(), name="one")
    dataset(small_files(), name="two")
    assert request_run(as_user, suite="acme/one").status_code == 202
    limited = request_run(as_user, suite="acme/two")
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1
    staff = client_for(StaffFactory())
    dataset(small_files(), name="three")
    assert request_run(staff, suite="acme/two").status_code == 202
    assert request_run(staff, suite="acme/three").status_code == 202


def test_the_daily_quota_is_enforced(as_user, model, settings):
    settings.EVALUATION_RUNS_PER_DAY = 1
    dataset(small_files(), name="one")
    dataset(small_files(), name="two")
    run_id = request_run(as_user, suite="acme/one").json()["id"]
    EvaluationRun.objects.filter(pk=run_id).update(status="failed")
    assert request_run(as_user, suite="acme/two").status_code == 429


def test_the_requester_cancels_a_queued_run(as_user, model, suite_dataset):
    run_id = request_run(as_user).json()["id"]
    response = as_user.post(f"/api/v1/evaluations/{run_id}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"


def test_another_member_cannot_cancel(as_user, as_other, model, suite_dataset):
    run_id = request_run(as_user).json()["id"]
    assert as_other.post(f"/api/v1/evaluations/{run_id}/cancel/").status_code == 403
    assert EvaluationRun.objects.get(pk=run_id).status == "queued"


def test_a_moderator_may_cancel(as_user, as_staff, model, suite_dataset):
    run_id = request_run(as_user).json()["id"]
    assert as_staff.post(f"/api/v1/evaluations/{run_id}/cancel/").json()["status"] == "cancelled"


def test_a_cancelled_run_frees_its_config(as_user, model, suite_dataset):
    run_id = request_run(as_user).json()["id"]
    as_user.post(f"/api/v1/evaluations/{run_id}/cancel/")
    assert request_run(as_user).status_code == 202


def test_results_are_public(api):
    run = finished_run(samples=3)
    data = api.get(f"/api/v1/evaluations/{run.pk}/").json()
    assert data["metrics"]["zh_en"] == {"bleu": 10.0, "bleu_stderr": 1.0, "chrf": 30.0, "chrf_stderr": 2.0}
    assert api.get("/api/v1/evaluations/999999/").status_code == 404


def test_samples_are_paginated(api):
    run = finished_run(samples=25)
    page = api.get(f"/api/v1/evaluations/{run.pk}/samples/?page_size=10").json()
    assert page["count"] == 25 and len(page["results"]) == 10
    assert set(page["results"][0]) == {"task", "index", "input", "prediction", "reference", "score"}
    assert api.get(f"/api/v1/evaluations/{run.pk}/samples/?task=other").json()["count"] == 0


@pytest.mark.parametrize("n", [2, 8])
def test_the_run_list_query_count_is_flat(api, n, django_assert_max_num_queries):
    model = runnable_model()
    data = dataset(small_files())
    user = UserFactory()
    for _ in range(n):
        finished_run(model=model, suite_dataset=data, user=user)
    with django_assert_max_num_queries(3):
        assert api.get("/api/v1/evaluations/").json()["count"] == n


def test_discussing_a_result_quotes_its_scores(as_other, category):
    run = finished_run()
    response = as_other.post(f"/api/v1/evaluations/{run.pk}/discuss/", {}, format="json")
    assert response.status_code == 201
    thread = Thread.objects.get()
    body = thread.posts.get().body
    assert "| zh_en | bleu | 10 | 1 |" in body and "| zh_en | chrf | 30 | 2 |" in body
    assert f"/evaluations/{run.pk}/" in body and run.model.repo_id in body
    again = as_other.post(f"/api/v1/evaluations/{run.pk}/discuss/", {}, format="json")
    assert again.json()["thread"] == response.json()["thread"] and Thread.objects.count() == 1


def test_a_result_discussed_by_another_member_is_its_requesters_thread(as_other, other_user, category):
    run = finished_run()
    as_other.post(f"/api/v1/evaluations/{run.pk}/discuss/", {"title": "This model is junk"}, format="json")
    thread = Thread.objects.get()
    assert thread.author == run.user and thread.title.startswith("Evaluation: ")  # not the asker's
    assert thread.watches.filter(user=other_user).exists()


def test_a_member_cannot_open_a_discussion_in_a_category_only_the_site_starts_threads_in(as_other, category):
    run = finished_run()
    run.user.is_staff = True  # the thread would be the requester's, who could post there
    run.user.save(update_fields=["is_staff"])
    closed = Category.objects.create(slug="site-only", name="Site only", members_start_threads=False)
    response = as_other.post(f"/api/v1/evaluations/{run.pk}/discuss/", {"category": closed.slug}, format="json")
    assert response.status_code == 400 and "category" in response.json()
    assert not Thread.objects.exists()


def test_only_a_succeeded_result_can_be_discussed(as_other, category):
    run = finished_run(status="failed")
    assert as_other.post(f"/api/v1/evaluations/{run.pk}/discuss/", {}, format="json").status_code == 403


def test_nobody_opens_a_thread_in_a_suspended_requesters_name(as_other, category):
    run = finished_run()
    run.user.suspended_until = timezone.now() + timedelta(days=1)
    run.user.save(update_fields=["suspended_until"])
    assert as_other.post(f"/api/v1/evaluations/{run.pk}/discuss/", {}, format="json").status_code == 403
    assert not Thread.objects.exists()


def test_discussing_needs_a_known_category(as_other, category):
    run = finished_run()
    response = as_other.post(f"/api/v1/evaluations/{run.pk}/discuss/", {"category": "nope"}, format="json")
    assert response.status_code == 400 and "category" in response.json()
