"""The jobs API without a worker: validation, quotas, permissions, cancel, and the services."""
import pytest
import redis
from django.utils import timezone

from core.queues import QueueUnavailable

from playground import reaper, runner, services
from playground.models import GenerationJob
from tests.conftest import client_for
from tests.factories import ResourceFactory, StaffFactory, UserFactory, runnable_model

pytestmark = pytest.mark.django_db
MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"


@pytest.fixture
def model(db):
    return runnable_model()


def chat_job(**overrides):
    return {"model": MODEL, "mode": "chat", "messages": [{"role": "user", "content": "Hi"}],
            "params": {"max_new_tokens": 8, "temperature": 0}, **overrides}


def test_submit_returns_202_and_a_queued_job(as_user, model):
    response = as_user.post("/api/v1/playground/jobs/", chat_job(), format="json")
    assert response.status_code == 202
    data = response.json()
    assert data["status"] == "queued" and data["model"] == MODEL
    assert set(data["metrics"]) == {"prompt_tokens", "completion_tokens", "ttft_ms", "tokens_per_s"}


def test_sign_in_is_required(api, model):
    assert api.post("/api/v1/playground/jobs/", chat_job(), format="json").status_code == 401


@pytest.mark.parametrize("payload,field", [
    (chat_job(model="nobody/nothing"), "model"),
    (chat_job(mode="poem"), "mode"),
    (chat_job(messages=[]), "messages"),
    (chat_job(messages=[{"role": "robot", "content": "x"}]), "messages"),
    ({"model": MODEL, "mode": "completion", "prompt": ""}, "prompt"),
    ({"model": MODEL, "mode": "completion", "prompt": "x" * 32_001}, "prompt"),
    (chat_job(params={"max_new_tokens": 0}), "params"),
    (chat_job(params={"max_new_tokens": 5000}), "params"),
    (chat_job(params={"temperature": 2.5}), "params"),
    (chat_job(params={"top_p": 0}), "params"),
    (chat_job(params={"top_k": 500}), "params"),
    (chat_job(params={"repetition_penalty": 0.5}), "params"),
    (chat_job(params={"seed": "abc"}), "params"),
    (chat_job(params={"stop": ["a", "b", "c", "d", "e"]}), "params"),
])
def test_bad_input_is_400_naming_the_field(as_user, model, payload, field):
    response = as_user.post("/api/v1/playground/jobs/", payload, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()
    assert not GenerationJob.objects.exists()


def test_a_model_without_runtime_is_not_runnable(as_user):
    ResourceFactory(owner="acme", name="plain")
    response = as_user.post("/api/v1/playground/jobs/", chat_job(model="acme/plain"), format="json")
    assert response.status_code == 400 and "cannot be run" in response.json()["model"][0]


def test_at_most_four_active_jobs_per_member(as_user, model):
    for _ in range(4):
        assert as_user.post("/api/v1/playground/jobs/", chat_job(), format="json").status_code == 202
    response = as_user.post("/api/v1/playground/jobs/", chat_job(), format="json")
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1


def test_hourly_quota(user, model, settings):
    settings.PLAYGROUND_JOBS_PER_HOUR = 2
    GenerationJob.objects.bulk_create([GenerationJob(user=user, resource=model, mode="chat", params={},
                                                     status="succeeded") for _ in range(2)])
    response = client_for(user).post("/api/v1/playground/jobs/", chat_job(), format="json")
    assert response.status_code == 429 and 3000 < int(response["Retry-After"]) <= 3600


def test_staff_are_exempt_from_quotas(model):
    client = client_for(StaffFactory())
    for _ in range(5):
        assert client.post("/api/v1/playground/jobs/", chat_job(), format="json").status_code == 202


def test_others_jobs_are_404_by_id_even_when_public(user, model):
    job = GenerationJob.objects.create(user=user, resource=model, mode="chat", params={})
    other = client_for(UserFactory())
    assert other.get(f"/api/v1/playground/jobs/{job.pk}/").status_code == 404
    assert other.post(f"/api/v1/playground/jobs/{job.pk}/cancel/").status_code == 404
    services.set_public(user=user, job=job, public=True)
    assert other.get(f"/api/v1/playground/jobs/{job.pk}/").status_code == 404  # ids are guessable
    assert other.post(f"/api/v1/playground/jobs/{job.pk}/cancel/").status_code == 404
    assert other.get(f"/api/v1/playground/shared/{job.share_token}/").status_code == 200


def test_a_moderator_may_cancel_anyones_job_by_id(user, model):
    job = GenerationJob.objects.create(user=user, resource=model, mode="chat", params={})
    response = client_for(StaffFactory()).post(f"/api/v1/playground/jobs/{job.pk}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"


def test_a_moderator_who_cancels_someones_job_is_not_shown_its_prompt(user, model):
    job = GenerationJob.objects.create(user=user, resource=model, mode="completion", prompt="my diary", params={})
    shown = client_for(StaffFactory()).post(f"/api/v1/playground/jobs/{job.pk}/cancel/").json()
    assert shown["id"] == job.pk and "prompt" not in shown and "messages" not in shown and "output" not in shown


def test_a_moderator_cannot_reach_a_job_sealed_in_a_blind_battle(model):
    """Its answer would name the hidden model, and the moderator may be the battle's voter."""
    moderator = StaffFactory()
    job = GenerationJob.objects.create(user=moderator, resource=model, mode="chat", params={}, sealed=True,
                                       status="succeeded")
    assert client_for(moderator).post(f"/api/v1/playground/jobs/{job.pk}/cancel/").status_code == 404


def test_history_lists_only_mine_newest_first(user, model):
    mine = [GenerationJob.objects.create(user=user, resource=model, mode="chat", params={}) for _ in range(2)]
    GenerationJob.objects.create(user=UserFactory(), resource=model, mode="chat", params={}, is_public=True)
    ids = [j["id"] for j in client_for(user).get("/api/v1/playground/jobs/?mine=1").json()["results"]]
    assert ids == [mine[1].pk, mine[0].pk]


def test_cancelling_a_queued_job_ends_it_at_once(as_user, user, model):
    job = GenerationJob.objects.create(user=user, resource=model, mode="chat", params={})
    assert as_user.post(f"/api/v1/playground/jobs/{job.pk}/cancel/").json()["status"] == "cancelled"


def test_redis_down_is_503_with_no_job_written(as_user, model, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = as_user.post("/api/v1/playground/jobs/", chat_job(), format="json")
    assert response.status_code == 503 and "unavailable" in response.json()["detail"]
    assert not GenerationJob.objects.exists()


@pytest.mark.django_db(transaction=True)  # the job is queued when the request's transaction commits
def test_a_broker_lost_after_the_check_is_503_and_fails_the_job(as_user, model, lose_the_broker_on_commit):
    lose_the_broker_on_commit(services)
    assert as_user.post("/api/v1/playground/jobs/", chat_job(), format="json").status_code == 503
    job = GenerationJob.objects.get()
    assert job.status == "failed" and job.error == "The inference queue is unavailable."


@pytest.mark.django_db(transaction=True)
def test_a_broker_lost_midway_through_a_batch_fails_the_whole_batch(user, model, monkeypatch):
    """The first prompts were sent, the third was not: the request answers 503, so none may run
    (a retry would run them twice)."""
    sent = []

    def broker_lost_at_the_third(row):
        if len(sent) == 2:
            raise redis.ConnectionError("gone")
        sent.append(row.pk)

    monkeypatch.setattr(services, "enqueue", broker_lost_at_the_third)
    with pytest.raises(QueueUnavailable):
        services.submit_jobs(user=user, resource=model, mode="completion", prompts=["a", "b", "c", "d"], params={})
    assert len(sent) == 2
    assert set(GenerationJob.objects.values_list("status", flat=True)) == {"failed"}


# --- the worker-side service, run in this process with the real model ---------------------------
@pytest.mark.django_db(transaction=True)  # the engine and heartbeat threads use their own connections
def test_execute_job_runs_and_records_metrics(user, model, engine):
    job = GenerationJob.objects.create(user=user, resource=model, mode="chat",
                                       messages=[{"role": "user", "content": "Say hi"}],
                                       params={"max_new_tokens": 6, "temperature": 0, "min_new_tokens": 6})
    runner.execute_job(job_id=job.pk, worker="test")
    job.refresh_from_db()
    assert job.status == "succeeded" and job.output and job.attempts == 1
    assert job.completion_tokens == 6 and job.prompt_tokens > 0 and job.ttft_ms > 0 and job.tokens_per_s > 0
    assert job.finish_reason == "length"


def test_re_delivered_finished_job_is_a_no_op(user, model):
    job = GenerationJob.objects.create(user=user, resource=model, mode="chat", params={}, status="succeeded",
                                       output="done")
    runner.execute_job(job_id=job.pk)
    job.refresh_from_db()
    assert job.output == "done" and job.attempts == 0


def test_a_model_that_fails_to_load_fails_its_job(user):
    broken = ResourceFactory(owner="acme", name="broken")
    from models_hub.models import Runtime

    Runtime.objects.create(resource=broken, source="package", location="no_such_package_anywhere")
    job = GenerationJob.objects.create(user=user, resource=broken, mode="completion", prompt="x", params={})
    runner.execute_job(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and "not installed" in job.error


@pytest.mark.django_db(transaction=True)
def test_prompt_beyond_the_context_fails_in_words(user, model, engine):
    from models_hub.models import Runtime

    Runtime.objects.filter(resource=model).update(context_length=16)
    job = GenerationJob.objects.create(user=user, resource=model, mode="completion", prompt="word " * 20,
                                       params={"max_new_tokens": 8})
    runner.execute_job(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and "context" in job.error


def test_reaper_requeues_once_then_fails(user, model, settings):
    stale = timezone.now() - timezone.timedelta(seconds=settings.PLAYGROUND_STALE_AFTER_S + 5)
    first = GenerationJob.objects.create(user=user, resource=model, mode="chat", params={}, status="running",
                                         attempts=1, started_at=timezone.now(), heartbeat_at=stale)
    second = GenerationJob.objects.create(user=user, resource=model, mode="chat", params={}, status="running",
                                          attempts=2, started_at=timezone.now(), heartbeat_at=stale)
    fresh = GenerationJob.objects.create(user=user, resource=model, mode="chat", params={}, status="running",
                                         attempts=1, started_at=timezone.now(), heartbeat_at=timezone.now())
    assert reaper.reap_stuck_jobs() == 2
    first.refresh_from_db(), second.refresh_from_db(), fresh.refresh_from_db()
    assert first.status == "queued"
    assert second.status == "failed" and "worker died" in second.error
    assert fresh.status == "running"


def test_share_and_post_to_forum(client, user, model, category):
    job = GenerationJob.objects.create(user=user, resource=model, mode="chat", status="succeeded",
                                       messages=[{"role": "user", "content": "Hello?"}], output="Hi there",
                                       params={"temperature": 0.2})
    client.force_login(user)
    client.post(f"/playground/runs/{job.pk}/share/", {"public": "1"})
    job.refresh_from_db()
    client.logout()
    assert "Hi there" in client.get(job.get_share_url()).content.decode()
    client.force_login(user)
    response = client.post(f"/playground/runs/{job.pk}/post/", {"category": category.pk, "title": "Look"})
    job.refresh_from_db()
    body = job.thread.posts.first().body
    assert response["Location"] == job.thread.get_absolute_url()
    assert MODEL in body and "temperature=0.2" in body and "Hello?" in body and "> Hi there" in body
    assert job.get_share_url() in body and job.get_absolute_url() not in body


@pytest.mark.parametrize("n", [5, 30])
def test_history_query_count(user, model, n, django_assert_max_num_queries):
    GenerationJob.objects.bulk_create([GenerationJob(user=user, resource=model, mode="chat", params={})
                                       for _ in range(n)])
    client = client_for(user)
    with django_assert_max_num_queries(5):
        assert client.get("/api/v1/playground/jobs/?page_size=100").status_code == 200


def test_an_early_re_delivery_of_a_running_job_is_a_no_op(user, model):
    job = GenerationJob.objects.create(user=user, resource=model, mode="chat", params={}, status="running",
                                       attempts=1, started_at=timezone.now(), heartbeat_at=timezone.now(),
                                       output="partial")
    runner.execute_job(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.attempts, job.output) == ("running", 1, "partial")
