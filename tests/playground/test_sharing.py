"""Shared runs open by an unguessable token; by id, only the owner opens a run."""
import pytest
from django.test import Client

from playground import services
from playground.models import GenerationJob
from tests.conftest import client_for
from tests.factories import UserFactory, runnable_model
from tests.playground.conftest import read_stream

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(user):
    return GenerationJob.objects.create(user=user, resource=runnable_model(), mode="completion", prompt="Once",
                                        output="upon a time", status="succeeded", params={})


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_sharing_sets_an_unguessable_token(user, job):
    services.set_public(user=user, job=job, public=True)
    job.refresh_from_db()
    assert job.is_public and len(job.share_token) >= 22  # 128 random bits
    assert job.get_share_url() == f"/playground/s/{job.share_token}/"


def test_by_id_only_the_owner_opens_a_run_even_a_public_one(user, other_user, job):
    services.set_public(user=user, job=job, public=True)
    anonymous = Client()
    stranger = signed_in(other_user)
    for url in (f"/playground/runs/{job.pk}/", f"/api/v1/playground/jobs/{job.pk}/",
                f"/api/v1/playground/jobs/{job.pk}/stream/"):
        assert stranger.get(url).status_code == 404, url
        assert anonymous.get(url).status_code in (302, 401, 403, 404), url
        assert b"upon a time" not in anonymous.get(url).content
    owner = signed_in(user)
    assert owner.get(f"/playground/runs/{job.pk}/").status_code == 200
    assert owner.get(f"/api/v1/playground/jobs/{job.pk}/").json()["share_url"] == job.get_share_url()
    assert "upon a time" in read_stream(owner.get(f"/api/v1/playground/jobs/{job.pk}/stream/"))


def test_anyone_opens_a_shared_run_by_its_token(user, job):
    services.set_public(user=user, job=job, public=True)
    anonymous = Client()
    page = anonymous.get(f"/playground/s/{job.share_token}/")
    assert page.status_code == 200 and "upon a time" in page.content.decode()
    assert "Make private" not in page.content.decode()  # the owner's controls are on the owner's page
    data = anonymous.get(f"/api/v1/playground/shared/{job.share_token}/").json()
    assert data["output"] == "upon a time" and data["url"] == job.get_share_url()
    events = read_stream(anonymous.get(f"/api/v1/playground/shared/{job.share_token}/stream/"))
    assert "event: done" in events and "upon a time" in events


def test_a_private_run_or_a_wrong_token_is_404(user, job):
    anonymous = Client()
    for token in ("", "nope", "x" * 22):
        for url in (f"/playground/s/{token}/", f"/api/v1/playground/shared/{token}/",
                    f"/api/v1/playground/shared/{token}/stream/"):
            assert anonymous.get(url).status_code == 404, url


def test_making_a_run_private_kills_its_link_and_resharing_gives_a_new_one(user, job):
    services.set_public(user=user, job=job, public=True)
    old = job.share_token
    services.set_public(user=user, job=job, public=False)
    job.refresh_from_db()
    assert job.share_token is None and job.get_share_url() is None
    assert Client().get(f"/playground/s/{old}/").status_code == 404
    assert Client().get(f"/api/v1/playground/shared/{old}/").status_code == 404
    services.set_public(user=user, job=job, public=True)
    job.refresh_from_db()
    assert job.share_token and job.share_token != old
    assert Client().get(job.get_share_url()).status_code == 200
    assert Client().get(f"/playground/s/{old}/").status_code == 404


def test_sharing_twice_keeps_the_link(user, job):
    services.set_public(user=user, job=job, public=True)
    first = GenerationJob.objects.get(pk=job.pk).share_token
    services.set_public(user=user, job=job, public=True)
    assert GenerationJob.objects.get(pk=job.pk).share_token == first


def test_the_run_page_shows_the_token_link(user, job):
    owner = signed_in(user)
    owner.post(f"/playground/runs/{job.pk}/share/", {"public": "1"})
    job.refresh_from_db()
    html = owner.get(f"/playground/runs/{job.pk}/").content.decode()
    assert f'data-testid="share-url">http://testserver/playground/s/{job.share_token}/<' in html


def test_the_api_share_action_returns_the_link(user, job):
    response = client_for(user).post(f"/api/v1/playground/jobs/{job.pk}/share/", {"public": True}, format="json")
    job.refresh_from_db()
    assert response.json()["share_url"] == f"/playground/s/{job.share_token}/"
    response = client_for(user).post(f"/api/v1/playground/jobs/{job.pk}/share/", {"public": False}, format="json")
    assert response.json()["share_url"] is None


def test_others_cannot_share_or_post_someone_elses_run(user, other_user, job, category):
    stranger = signed_in(other_user)
    assert stranger.post(f"/playground/runs/{job.pk}/share/", {"public": "1"}).status_code == 404
    assert stranger.post(f"/playground/runs/{job.pk}/post/", {"category": category.pk}).status_code == 404
    assert client_for(other_user).post(f"/api/v1/playground/jobs/{job.pk}/share/", {"public": True},
                                       format="json").status_code == 404
    job.refresh_from_db()
    assert not job.is_public and job.share_token is None


def test_posting_to_the_forum_links_the_token_url(user, job, category):
    signed_in(user).post(f"/playground/runs/{job.pk}/post/", {"category": category.pk, "title": "Look"})
    job.refresh_from_db()
    body = job.thread.posts.first().body
    assert job.is_public and f"(/playground/s/{job.share_token}/)" in body
    assert f"/playground/runs/{job.pk}/" not in body


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_runs_that_were_already_public_a_token():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("playground", "0003_protect_job_resource")]
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()  # every app: going back unapplies the apps that build on playground
    executor.migrate(before)
    try:
        OldJob = executor.loader.project_state(before).apps.get_model("playground", "GenerationJob")
        user, resource = UserFactory(), runnable_model()
        public = OldJob.objects.create(user_id=user.pk, resource_id=resource.pk, mode="chat", params={},
                                       is_public=True)
        private = OldJob.objects.create(user_id=user.pk, resource_id=resource.pk, mode="chat", params={})
    finally:
        MigrationExecutor(connection).migrate(latest)
    public, private = GenerationJob.objects.get(pk=public.pk), GenerationJob.objects.get(pk=private.pk)
    assert public.share_token and public.get_share_url() and private.share_token is None
    assert Client().get(public.get_share_url()).status_code == 200


def test_a_runs_page_names_its_settings_as_the_playground_does(user):
    job = GenerationJob.objects.create(user=user, resource=runnable_model(), mode="completion", prompt="Once",
                                       status="succeeded", params={"max_new_tokens": 64, "stop": ["\n\n", "END"]})
    page = signed_in(user).get(f"/playground/runs/{job.pk}/").content.decode()
    assert "<dt>Max new tokens</dt><dd>64</dd>" in page and "<dt>Stop sequences</dt>" in page and "END" in page
