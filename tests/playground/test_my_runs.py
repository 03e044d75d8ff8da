"""My runs: filtered by where they came from, showing what was asked; a member deletes an ended
run of theirs, but not one still running, nor an arena battle's answer."""
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from core.exceptions import RateLimited

from evaluation.models import Battle
from playground import services
from playground.models import GenerationJob, RunReport
from tests.conftest import client_for
from tests.evaluation.arena.factories import make_battle
from tests.factories import UserFactory, runnable_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def model(db):
    return runnable_model()


def run(user, model, **fields) -> GenerationJob:
    fields = {"status": "succeeded", "messages": [{"role": "user", "content": "What is a tokenizer?"}], "params": {},
              **fields}
    return GenerationJob.objects.create(user=user, resource=model, mode="chat", **fields)


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_ended_run_is_deleted_by_its_owner(user, model):
    job = run(user, model, is_public=True)
    assert client_for(user).delete(f"/api/v1/playground/jobs/{job.pk}/").status_code == 204
    assert not GenerationJob.objects.filter(pk=job.pk).exists()


def test_a_running_job_is_409_and_stays(user, model):
    job = run(user, model, status="running")
    response = client_for(user).delete(f"/api/v1/playground/jobs/{job.pk}/")
    assert response.status_code == 409 and "Stop the run" in response.json()["detail"]
    assert GenerationJob.objects.filter(pk=job.pk).exists()


def test_a_prompt_of_a_request_still_running_is_409_until_the_rest_end(user, model):
    group = uuid.uuid4()
    done, running = run(user, model, request_group=group), run(user, model, request_group=group, status="running")
    response = client_for(user).delete(f"/api/v1/playground/jobs/{done.pk}/")
    assert response.status_code == 409 and "still has prompts running" in response.json()["detail"]
    GenerationJob.objects.filter(pk=running.pk).update(status="succeeded")
    assert client_for(user).delete(f"/api/v1/playground/jobs/{done.pk}/").status_code == 204


def test_someone_elses_run_is_404(user, model):
    job = run(UserFactory(), model, is_public=True)
    assert client_for(user).delete(f"/api/v1/playground/jobs/{job.pk}/").status_code == 404
    assert GenerationJob.objects.filter(pk=job.pk).exists()


def test_a_battles_answer_is_409_and_the_battle_keeps_it(user, model):
    battle = make_battle(model, runnable_model("acme/other"), user=user, winner="a")  # revealed: not sealed
    response = client_for(user).delete(f"/api/v1/playground/jobs/{battle.job_a_id}/")
    assert response.status_code == 409 and "arena battle" in response.json()["detail"]
    assert Battle.objects.filter(pk=battle.pk).exists()


def test_a_run_with_an_open_report_is_409_until_moderators_review_it(user, model):
    job = run(user, model, is_public=True)
    RunReport.objects.create(reporter=UserFactory(), job=job, reason="abusive")
    response = client_for(user).delete(f"/api/v1/playground/jobs/{job.pk}/")
    assert response.status_code == 409 and "report" in response.json()["detail"]
    RunReport.objects.update(resolved=True)
    assert client_for(user).delete(f"/api/v1/playground/jobs/{job.pk}/").status_code == 204


def test_a_battle_started_in_the_arena_keeps_its_answers(user, model):
    runnable_model("acme/other")
    battle_id = client_for(user).post("/api/v1/arena/battles/", {"prompt": "Hi"}, format="json").json()["id"]
    battle = Battle.objects.get(pk=battle_id)
    assert set(GenerationJob.objects.filter(pk__in=[battle.job_a_id, battle.job_b_id]).values_list("kept", flat=True)) \
        == {True}


def test_the_run_page_offers_delete_only_for_what_can_be_deleted(user, model):
    assert 'id="delete-run"' in browser(user).get(run(user, model).get_absolute_url()).content.decode()
    kept = run(user, model, kept=True)
    assert 'id="delete-run"' not in browser(user).get(kept.get_absolute_url()).content.decode()


def test_deleting_the_account_still_takes_its_battles_and_runs(user, model):
    make_battle(model, runnable_model("acme/other"), user=user, winner="a")
    user.delete()
    assert not Battle.objects.exists() and not GenerationJob.objects.exists()


def test_the_run_page_deletes_and_goes_back_to_my_runs(user, model):
    job = run(user, model)
    response = browser(user).post(f"/playground/runs/{job.pk}/delete/", follow=True)
    assert response.redirect_chain[-1][0] == "/playground/runs/"
    assert f"Run #{job.pk} was deleted." in response.content.decode()
    assert not GenerationJob.objects.filter(pk=job.pk).exists()


def test_my_runs_show_what_was_asked_and_filter_by_source(user, model):
    run(user, model, source="web")
    run(user, model, source="openai", messages=[{"role": "user", "content": "From a script"}])
    page = browser(user).get("/playground/runs/?source=web").content.decode()
    assert "What is a tokenizer?" in page and "From a script" not in page


def test_an_unknown_filter_is_400_naming_it(user):
    response = browser(user).get("/playground/runs/?source=fax")
    assert response.status_code == 400 and "From:" in response.content.decode()


@pytest.mark.parametrize("n", [3, 12])
def test_my_runs_query_count_is_flat(user, model, n, django_assert_max_num_queries):
    for _ in range(n):
        run(user, model)
    client = browser(user)
    with django_assert_max_num_queries(9):
        assert client.get("/playground/runs/").status_code == 200


def test_a_run_cut_at_max_new_tokens_says_so(user, model):
    job = run(user, model, finish_reason="length")
    assert "cut short at Max new tokens" in browser(user).get(job.get_absolute_url()).content.decode()


def test_roles_are_named_in_the_pages_language(user, model):
    job = run(user, model)
    page = browser(user).get(job.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<div class="role">用户</div>' in page


def test_a_runs_stop_sequences_show_their_new_lines(user, model):
    job = run(user, model, params={"stop": ["\n\n", "a\tb"]})
    page = browser(user).get(job.get_absolute_url()).content.decode()
    assert "<code>\\n\\n</code> <code>a\\tb</code>" in page


def test_deleting_a_run_does_not_give_back_its_place_in_the_hourly_quota(user, model, settings):
    settings.PLAYGROUND_JOBS_PER_HOUR = 2
    first, _second = run(user, model), run(user, model)
    services.delete_job(user=user, job=first)
    assert services.quota_usage(user).remaining == 0
    with pytest.raises(RateLimited):
        services.submit_jobs(user=user, resource=model, mode="completion", prompts=["Hi"], params={})


def test_a_deleted_request_of_several_prompts_still_counts_once(user, model):
    group = uuid.uuid4()
    jobs = [run(user, model, request_group=group) for _ in range(3)]
    for job in jobs:
        services.delete_job(user=user, job=job)
    assert services.quota_usage(user).recent == 1


def test_a_run_from_before_the_hour_leaves_nothing_behind(user, model):
    old = run(user, model)
    GenerationJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=2))
    old.refresh_from_db()
    services.delete_job(user=user, job=old)
    assert services.quota_usage(user).recent == 0
