"""Leaderboards (API and pages), the hub pages' includes, and the run pages."""
import pytest
from django.utils import timezone

from evaluation.models import Suite
from evaluation.suites import sync_suite
from models_hub.repos.commits import Changes, commit_files
from models_hub.repos.storage import spool_bytes, store
from tests.conftest import client_for
from tests.factories import ResourceFactory, UserFactory, runnable_model

from .factories import dataset, finished_run, small_files

pytestmark = pytest.mark.django_db


def metrics(bleu: float, chrf: float | None) -> dict:
    return {"zh_en": {"bleu": bleu, "bleu_stderr": 0.5, "chrf": chrf, "chrf_stderr": None},
            "text": {"word_perplexity": 40.0 + bleu, "word_perplexity_stderr": None}}


@pytest.fixture
def board(db):
    data = dataset(small_files())
    models = [runnable_model(f"lab/m{i}") for i in range(3)]
    finished_run(model=models[0], suite_dataset=data, metrics=metrics(10.0, 30.0))
    finished_run(model=models[1], suite_dataset=data, metrics=metrics(20.0, 20.0))
    finished_run(model=models[2], suite_dataset=data, metrics=metrics(5.0, None))
    return data


def ranked(api, ordering=""):
    response = api.get(f"/api/v1/leaderboards/acme/bench/{'?ordering=' + ordering if ordering else ''}")
    return [row["model"] for row in response.json()["results"]]


def test_the_suites_are_listed(api, board):
    data = api.get("/api/v1/leaderboards/").json()["results"]
    assert data == [{"suite": "acme/bench", "title": "Small suite", "tasks": ["zh_en", "sums", "text"], "runs": 3,
                     "revision": board.commits.get().sha, "url": "/leaderboards/acme/bench/"}]


def test_ranked_by_the_first_metric_by_default(api, board):
    assert ranked(api) == ["lab/m1", "lab/m0", "lab/m2"]


def test_ordering_by_a_metric_and_reversed(api, board):
    assert ranked(api, "zh_en.chrf") == ["lab/m0", "lab/m1", "lab/m2"]  # no value goes last
    assert ranked(api, "-zh_en.bleu") == ["lab/m2", "lab/m0", "lab/m1"]


def test_lower_perplexity_ranks_first(api, board):
    assert ranked(api, "text.word_perplexity") == ["lab/m2", "lab/m0", "lab/m1"]


def test_rows_carry_metrics_stderr_and_samples_links(api, board):
    row = api.get("/api/v1/leaderboards/acme/bench/").json()["results"][0]
    assert row["metrics"]["zh_en"]["bleu_stderr"] == 0.5
    assert row["samples"] == f"/api/v1/evaluations/{row['run']}/samples/"


def test_an_unknown_ordering_is_a_400(api, board):
    response = api.get("/api/v1/leaderboards/acme/bench/?ordering=zh_en.rouge")
    assert response.status_code == 400 and "ordering" in response.json()


def test_a_model_shows_its_latest_result_only(api, board):
    model = runnable_model("lab/m0")
    finished_run(model=model, suite_dataset=board, metrics=metrics(50.0, 60.0))
    assert ranked(api) == ["lab/m0", "lab/m1", "lab/m2"]


def test_failed_runs_are_not_ranked(api, board):
    finished_run(model=runnable_model("lab/m9"), suite_dataset=board, status="failed")
    assert "lab/m9" not in ranked(api)


def draft_of(user, repo_id: str = "lab/draft"):
    model = runnable_model(repo_id)
    model.is_published, model.submitter = False, user
    model.save(update_fields=["is_published", "submitter"])
    return model


def test_a_drafts_runs_are_not_ranked_or_counted(api, board, user):
    finished_run(model=draft_of(user), suite_dataset=board, user=user, metrics=metrics(90.0, 90.0))
    assert "lab/draft" not in ranked(api)
    assert api.get("/api/v1/leaderboards/").json()["results"][0]["runs"] == 3


def test_a_drafts_run_is_its_owners_to_see(api, board, user, other_user):
    run = finished_run(model=draft_of(user), suite_dataset=board, user=user)
    assert api.get(f"/api/v1/evaluations/{run.pk}/").status_code == 404
    assert client_for(other_user).get(f"/api/v1/evaluations/{run.pk}/").status_code == 404
    assert run.pk not in [r["id"] for r in client_for(other_user).get("/api/v1/evaluations/").json()["results"]]
    assert client_for(user).get(f"/api/v1/evaluations/{run.pk}/").status_code == 200
    assert client_for(other_user).get(f"/api/v1/evaluations/{run.pk}/stream/").status_code == 404


def test_the_run_form_offers_a_draft_to_its_owner_only(client, board, user, other_user):
    draft_of(user)
    client.force_login(user)
    assert "lab/draft" in client.get("/evaluations/new/").content.decode()
    client.force_login(other_user)
    assert "lab/draft" not in client.get("/evaluations/new/").content.decode()


def test_a_drafts_run_page_is_not_found_for_others(client, board, user, other_user):
    run = finished_run(model=draft_of(user), suite_dataset=board, user=user)
    client.force_login(other_user)
    assert client.get(f"/evaluations/{run.pk}/").status_code == 404
    client.force_login(user)
    assert client.get(f"/evaluations/{run.pk}/").status_code == 200


@pytest.mark.parametrize("n", [2, 6])
def test_leaderboard_query_counts_are_flat(client, api, n, django_assert_max_num_queries):
    data = dataset(small_files())
    for i in range(n):
        finished_run(model=runnable_model(f"lab/q{i}"), suite_dataset=data)
        dataset(small_files(), name=f"other-{i}")
    for suite_dataset in data.__class__.objects.filter(kind="dataset"):
        sync_suite(suite_dataset)
    with django_assert_max_num_queries(3):
        assert api.get("/api/v1/leaderboards/acme/bench/").status_code == 200
    with django_assert_max_num_queries(2):
        assert len(api.get("/api/v1/leaderboards/").json()["results"]) == n + 1
    with django_assert_max_num_queries(6):
        assert client.get("/leaderboards/acme/bench/").status_code == 200
    with django_assert_max_num_queries(5):
        assert client.get("/leaderboards/").status_code == 200


def test_the_leaderboard_page_ranks_and_links_runs(client, board):
    page = client.get("/leaderboards/acme/bench/?ordering=zh_en.chrf").content.decode()
    assert page.index("lab/m0") < page.index("lab/m1") < page.index("lab/m2")
    assert "± 0.5" in page and "/evaluations/" in page


def _commit_to(data, files: dict[str, bytes]) -> None:
    additions = [(path, store(spool_bytes(body, label=path))) for path, body in files.items()]
    commit_files(resource=data, user=None, title="edit", check_permission=False, changes=Changes(additions=additions),
                 notify_readme=False)
    sync_suite(data)


def test_an_edit_outside_the_task_files_marks_no_result(client, api, board):
    _commit_to(board, {"README.md": b"# A better card\n"})
    assert 'data-testid="older-data"' not in client.get("/leaderboards/acme/bench/").content.decode()
    assert not any(row["older_data"] for row in api.get("/api/v1/leaderboards/acme/bench/").json()["results"])


def test_results_measured_before_a_task_file_changed_are_marked(client, api, board):
    _commit_to(board, {"t.jsonl": b'{"zh": "\u4f60\u597d", "en": "hello"}\n'})
    newer = finished_run(model=runnable_model("lab/m1"), suite_dataset=board, metrics=metrics(1.0, 1.0))
    page = client.get("/leaderboards/acme/bench/").content.decode()
    assert page.count('data-testid="older-data"') == 2 and "<code" in page
    marked = {row["run"]: row["older_data"] for row in api.get("/api/v1/leaderboards/acme/bench/").json()["results"]}
    assert marked[newer.pk] is False and sum(marked.values()) == 2


def test_a_bad_ordering_on_the_page_falls_back(client, board):
    assert client.get("/leaderboards/acme/bench/?ordering=nope").status_code == 200


def test_the_run_page_shows_metrics_and_samples(client):
    run = finished_run(samples=30)
    page = client.get(f"/evaluations/{run.pk}/").content.decode()
    assert "zh_en" in page and "out 0" in page and "ref 0" in page
    assert "out 29" not in page  # the next page of samples
    assert "out 29" in client.get(f"/evaluations/{run.pk}/?page=2").content.decode()


def test_a_models_hub_page_shows_its_results(client, board):
    model = runnable_model("lab/m1")
    page = client.get(model.get_absolute_url()).content.decode()
    assert 'data-testid="model-evaluations"' in page and "acme/bench" in page


def test_a_datasets_page_shows_its_suite_or_its_errors(client, board):
    assert "Small suite" in client.get(board.get_absolute_url()).content.decode()
    files = small_files()
    files["eval.yaml"] = b"tasks:\n  - {name: t, type: essay, file: t.jsonl}\n"
    broken = dataset(files, name="broken")
    page = client.get(broken.get_absolute_url()).content.decode()
    assert "tasks[0].type" in page and Suite.objects.get(dataset=broken).error


def test_a_plain_resource_page_has_no_evaluation_panel(client):
    resource = ResourceFactory(kind="paper")
    page = client.get(resource.get_absolute_url()).content.decode()
    assert "model-evaluations" not in page and "dataset-suite" not in page


def test_the_new_run_form_starts_a_run(client, user, board):
    client.force_login(user)
    suite = Suite.objects.get(dataset=board)
    response = client.post("/evaluations/new/", {"model": "lab/m0", "suite": suite.pk})
    assert response.status_code == 302
    run_page = client.get(response["Location"])
    assert run_page.status_code == 200


def test_the_new_run_form_says_so_when_the_queue_is_down(client, user, board, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    client.force_login(user)
    suite = Suite.objects.get(dataset=board)
    response = client.post("/evaluations/new/", {"model": "lab/m0", "suite": suite.pk})
    assert response.status_code == 503 and "queue is unavailable" in response.content.decode()


def test_the_new_run_form_refuses_an_unknown_model(client, user, board):
    client.force_login(user)
    suite = Suite.objects.get(dataset=board)
    assert client.post("/evaluations/new/", {"model": "no/model", "suite": suite.pk}).status_code == 400


def test_the_new_run_form_needs_sign_in(client, board):
    assert client.get("/evaluations/new/").status_code == 302


def test_discussing_from_the_run_page(client, user, category):
    run = finished_run()
    client.force_login(user)
    response = client.post(f"/evaluations/{run.pk}/discuss/", {"category": category.pk})
    assert response.status_code == 302 and "/forum/" in response["Location"]


def test_discussing_from_the_run_page_needs_a_category(client, user, category):
    run = finished_run()
    client.force_login(user)
    response = client.post(f"/evaluations/{run.pk}/discuss/", {"category": "abc"})
    assert response.status_code == 400 and not run.__class__.objects.get(pk=run.pk).thread_id


def test_a_new_member_past_the_day_cap_is_told_the_wait_when_discussing_a_run(client, category, settings):
    settings.FORUM_RATE_LIMITS = {**settings.FORUM_RATE_LIMITS, "new_user_max_threads_per_day": 0}
    newcomer = UserFactory(date_joined=timezone.now())
    run = finished_run(user=newcomer)  # the thread is the requester's: their limits apply
    client.force_login(newcomer)
    response = client.post(f"/evaluations/{run.pk}/discuss/", {"category": category.pk})
    assert response.status_code == 429 and "Please try again in 23" in response.content.decode()
    run.refresh_from_db()
    assert run.thread_id is None


def test_the_cancel_button_is_the_requesters(client, user, other_user):
    run = finished_run(user=user, status="queued", metrics={})
    client.force_login(other_user)
    assert client.post(f"/evaluations/{run.pk}/cancel/").status_code == 403
    client.force_login(user)
    assert client.post(f"/evaluations/{run.pk}/cancel/").status_code == 302
    run.refresh_from_db()
    assert run.status == "cancelled"


def test_signed_out_visitors_cannot_cancel_or_discuss(client, category):
    run = finished_run(status="queued", metrics={})
    assert client.post(f"/evaluations/{run.pk}/cancel/").status_code == 302  # to the log-in page
    assert client.post(f"/evaluations/{run.pk}/discuss/", {"category": category.pk}).status_code == 302
    run.refresh_from_db()
    assert run.status == "queued" and run.thread_id is None


def test_my_evaluations_lists_the_members_own_runs_newest_first(client, user, other_user):
    older, newer = finished_run(user=user), finished_run(user=user, status="queued", metrics={})
    others = finished_run(user=other_user)
    client.force_login(user)
    page = client.get("/evaluations/").content.decode()
    assert page.index(f"#{newer.pk} ") < page.index(f"#{older.pk} ") and f"#{others.pk} " not in page
    assert "/evaluations/" in client.get("/").content.decode()  # the user menu links to it


def test_my_evaluations_needs_sign_in(client):
    assert client.get("/evaluations/").status_code == 302


@pytest.mark.parametrize("n", [2, 8])
def test_my_evaluations_query_count_is_flat(client, user, n, django_assert_max_num_queries):
    for _ in range(n):
        finished_run(user=user)
    client.force_login(user)
    with django_assert_max_num_queries(6):
        assert client.get("/evaluations/").status_code == 200


def test_the_run_page_leads_on_to_the_playground_and_the_arena(client):
    run = finished_run()
    page = client.get(f"/evaluations/{run.pk}/").content.decode()
    repo = run.model.repo_id
    assert f"/playground/?model={repo}" in page and f"/arena/?mode=compare&amp;a={repo}" in page


def test_only_the_requester_names_the_discussion(client, category):
    run = finished_run()
    client.force_login(run.user)
    assert 'name="title"' in client.get(f"/evaluations/{run.pk}/").content.decode()
    client.force_login(UserFactory())
    assert 'name="title"' not in client.get(f"/evaluations/{run.pk}/").content.decode()


def test_the_new_run_form_says_what_is_missing_without_a_suite(client, user):
    runnable_model()
    client.force_login(user)
    page = client.get("/evaluations/new/").content.decode()
    assert 'id="nothing-to-evaluate"' in page and "eval.yaml" in page and "<form method=\"post\" class=\"card\">" not in page
