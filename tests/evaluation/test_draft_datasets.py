"""A draft dataset's suite is its owner's (and the moderators') until it is published: not listed,
ranked, offered, run, shown on a model's page or discussed in public by anyone else."""
import pytest
from django.core.exceptions import ValidationError

from evaluation import services
from evaluation.models import EvaluationRun
from evaluation.suites import sync_suite
from models_hub.models import Resource
from tests.conftest import client_for
from tests.factories import runnable_model

from .factories import dataset, finished_run, small_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(user):
    data = dataset(small_files(), owner=user.username, name="secret-bench")
    Resource.objects.filter(pk=data.pk).update(is_published=False, submitter=user)
    data.refresh_from_db()
    sync_suite(data)  # as its owner's visit to its page does
    return data


def test_a_draft_suite_is_listed_and_ranked_for_its_owner_only(api, user, other_user, draft):
    finished_run(model=runnable_model(), suite_dataset=draft, user=user)
    board = f"/api/v1/leaderboards/{draft.owner}/{draft.name}/"
    for outsider in (api, client_for(other_user)):
        assert outsider.get("/api/v1/leaderboards/").json()["results"] == []
        assert outsider.get(board).status_code == 404
    assert [s["suite"] for s in client_for(user).get("/api/v1/leaderboards/").json()["results"]] == [draft.repo_id]
    assert client_for(user).get(board).status_code == 200


def test_the_leaderboard_pages_keep_a_draft_suite_to_its_owner(client, user, other_user, draft):
    client.force_login(other_user)
    assert "secret-bench" not in client.get("/leaderboards/").content.decode()
    assert client.get(f"/leaderboards/{draft.owner}/{draft.name}/").status_code == 404
    client.force_login(user)
    assert "secret-bench" in client.get("/leaderboards/").content.decode()


def test_another_members_draft_suite_cannot_be_run_from_the_form_or_the_service(client, other_user, draft):
    model = runnable_model()
    client.force_login(other_user)
    assert "secret-bench" not in client.get("/evaluations/new/").content.decode()
    response = client.post("/evaluations/new/", {"model": model.repo_id, "suite": sync_suite(draft).pk})
    assert response.status_code == 400
    with pytest.raises(ValidationError) as refused:
        services.request_run(user=other_user, model=model, dataset=draft)
    assert "suite" in refused.value.message_dict
    assert not EvaluationRun.objects.exists()


def test_a_public_models_page_leaves_out_its_results_on_a_draft_suite(client, user, draft):
    model = runnable_model()
    finished_run(model=model, suite_dataset=draft, user=user)
    assert "secret-bench" not in client.get(model.get_absolute_url()).content.decode()


def test_a_result_on_a_draft_suite_cannot_be_discussed(client, user, category, draft):
    run = finished_run(model=runnable_model(), suite_dataset=draft, user=user)
    client.force_login(user)
    assert client.post(f"/evaluations/{run.pk}/discuss/", {"category": category.pk}).status_code == 403
    assert client_for(user).post(f"/api/v1/evaluations/{run.pk}/discuss/", {}, format="json").status_code == 403
    run.refresh_from_db()
    assert run.thread_id is None
