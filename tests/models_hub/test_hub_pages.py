from datetime import timedelta

import pytest
from django.utils import timezone

from models_hub import services
from models_hub.models import Like, Resource
from core.templatetags.site import short_count
from tests.factories import ResourceFactory, StaffFactory, UserFactory, runnable_model

pytestmark = pytest.mark.django_db


def test_hub_page_shows_facets_with_counts(client):
    ResourceFactory(task="translation")
    ResourceFactory(task="translation")
    page = client.get("/hub/").content.decode()
    assert "translation" in page and ">2<" in page


def test_the_hub_lists_what_was_liked_this_week_first(client):
    popular_once = ResourceFactory(name="popular-once", likes=3)
    liked_now = ResourceFactory(name="liked-now", likes=1)
    for _ in range(3):
        Like.objects.create(user=UserFactory(), resource=popular_once, created_at=timezone.now() - timedelta(days=30))
    Like.objects.create(user=UserFactory(), resource=liked_now)
    page = client.get("/hub/").content.decode()
    assert page.index("liked-now") < page.index("popular-once")
    assert 'value="trending" selected' in page


def test_model_page_has_snippets_and_try_button_when_runnable(client):
    model = runnable_model()
    page = client.get(model.get_absolute_url()).content.decode()
    assert 'pipeline("text-generation", model="HuggingFaceTB/SmolLM2-135M-Instruct")' in page
    assert "/playground/?model=HuggingFaceTB/SmolLM2-135M-Instruct" in page
    assert "from openai import OpenAI" in page


def test_dataset_page_has_load_dataset_snippet(client):
    dataset = ResourceFactory(kind="dataset", owner="rajpurkar", name="squad")
    assert 'load_dataset("rajpurkar/squad")' in client.get(dataset.get_absolute_url()).content.decode()


def test_submit_form_creates_a_tutorial(client, user):
    client.force_login(user)
    response = client.post("/hub/new/", {"kind": "tutorial", "name": "my-guide", "title": "My guide",
                                         "card": "# Guide", "tags": "intro"})
    resource = Resource.objects.get()
    assert response.status_code == 302 and resource.repo_id == f"{user.username}/my-guide"


def test_discussion_thread_is_created_once_and_linked_both_ways(client, user):
    resource = ResourceFactory()
    client.force_login(user)
    first = client.post(f"{resource.get_absolute_url()}discussion/")
    second = client.post(f"{resource.get_absolute_url()}discussion/")
    resource.refresh_from_db()
    assert first["Location"] == second["Location"] == resource.thread.get_absolute_url()
    assert resource.get_absolute_url() in resource.thread.posts.first().body_html


def test_like_button_via_htmx(client, user):
    resource = ResourceFactory()
    client.force_login(user)
    response = client.post(f"{resource.get_absolute_url()}like/", {"like": "1"}, HTTP_HX_REQUEST="true")
    assert 'data-testid="likes">1<' in response.content.decode()


def test_only_owner_or_staff_see_the_edit_form(client, user, other_user):
    resource = services.save_resource(user=user, data={"kind": "model", "name": "m", "title": "M"})
    client.force_login(other_user)
    assert client.get(f"{resource.get_absolute_url()}edit/").status_code == 403
    client.force_login(user)
    assert client.get(f"{resource.get_absolute_url()}edit/").status_code == 200


def test_seed_demo_is_idempotent_and_has_the_runnable_model(db):
    from django.core.management import call_command

    call_command("seed_demo")
    count = Resource.objects.count()
    call_command("seed_demo")
    assert Resource.objects.count() == count >= 25
    assert Resource.objects.runnable().filter(repo_id="HuggingFaceTB/SmolLM2-135M-Instruct").exists()
    bert = Resource.objects.get(repo_id="google-bert/bert-base-uncased")
    assert bert.arxiv_id == "1810.04805" and bert.task == "fill-mask"


def test_a_moderators_facet_counts_are_not_served_to_a_visitor(client, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    ResourceFactory(kind="model", license="mit")
    ResourceFactory(kind="model", license="secret-licence", is_published=False)
    client.force_login(StaffFactory())
    assert "secret-licence" in client.get("/hub/").content.decode()  # the moderator's view, now cached
    client.logout()
    assert "secret-licence" not in client.get("/hub/").content.decode()


def test_filter_chips_name_the_filter_in_the_readers_language(client):
    ResourceFactory(kind="dataset", task="text-generation")
    page = client.get("/hub/?kind=dataset&task=text-generation", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    chips = page[page.index('class="row-meta"'):]
    assert "类型: 数据集 ✕" in chips and "任务: text-generation ✕" in chips


def test_a_draft_is_marked_in_its_owners_list(client, user):
    ResourceFactory(name="tuned", submitter=user, is_published=False)
    ResourceFactory(name="public")
    client.force_login(user)
    page = client.get("/hub/").content.decode()
    rows = page.split('<li class="row">')[1:]
    assert [('class="state draft"' in row) for row in rows if "acme/" in row] == [
        "acme/tuned" in row for row in rows if "acme/" in row]
    assert sum('class="state draft"' in row for row in rows) == 1


def test_a_chosen_kind_leaves_the_other_kinds_countable_and_narrows_the_other_facets(client):
    ResourceFactory(kind="model", task="translation")
    ResourceFactory(kind="dataset", task="summarization")
    ResourceFactory(kind="dataset", task="summarization")
    facets = client.get("/hub/?kind=model").context["facets"]
    assert facets["kind"] == [("dataset", 2), ("model", 1)] and facets["task"] == [("translation", 1)]


def test_a_chosen_task_outside_the_top_of_its_facet_is_still_listed(client):
    for n in range(16):
        ResourceFactory.create_batch(2, task=f"task-{n:02d}")
    ResourceFactory(task="rare-task")
    facets = client.get("/hub/?task=rare-task").context["facets"]
    assert len(facets["task"]) == 16 and facets["task"][-1] == ("rare-task", 1)


@pytest.mark.parametrize("count, shown", [(135_000_000, "135M"), (1_710_000_000, "1.7B"), (494_032_768, "494M"),
                                          (7_000, "7K"), (950, "950"), (22_700_000, "22.7M")])
def test_a_models_size_is_shown_as_the_hub_shows_it(count, shown):
    assert short_count(count) == shown


def test_the_runnable_filter_keeps_what_runs_in_the_playground(client):
    runs = runnable_model("acme/runs")
    ResourceFactory(owner="acme", name="only-files")
    page = client.get("/hub/?runnable=1")
    assert [r.repo_id for r in page.context["page"].object_list] == [runs.repo_id]
    assert page.context["facets"]["runnable"] == [("1", 1)]
    assert "Runs in the playground" in page.content.decode()


def test_the_runnable_filter_holds_in_the_api(api):
    runs = runnable_model("acme/runs")
    ResourceFactory(owner="acme", name="only-files")
    assert [r["repo_id"] for r in api.get("/api/v1/resources/?runnable=true").json()["results"]] == [runs.repo_id]


def test_a_list_row_shows_sizes_and_counts_as_the_hub_does(client):
    ResourceFactory(name="big", parameters=135_000_000, downloads=12_345)
    page = client.get("/hub/").content.decode()
    assert ">135M<" in page and "<b>12.3K</b>" in page and 'title="12345"' in page
