"""Search narrows by category, author and date, in either order, with or without words."""
from datetime import datetime, timezone

import pytest

from community import indexing
from community.models import Post, Thread
from models_hub import services as hub
from tests.factories import CategoryFactory, ResourceFactory, UserFactory, make_post, make_thread

pytestmark = pytest.mark.django_db


def ids(response) -> list[tuple[str, int]]:
    assert response.status_code == 200, response.content
    return [(h["type"], h["id"]) for h in response.json()["results"]]


def dated(thread: Thread, day: str) -> Thread:
    """The thread as if written on `day` (its opening post too), indexed again."""
    when = datetime.fromisoformat(day).replace(hour=12, tzinfo=timezone.utc)
    Thread.objects.filter(pk=thread.pk).update(created_at=when)
    Post.objects.filter(thread=thread, position=1).update(created_at=when)
    thread.refresh_from_db()
    indexing.reindex_thread(thread)
    return thread


@pytest.fixture
def alice():
    return UserFactory(username="Alice")


def test_author_narrows_to_their_threads_and_replies(api, category, alice):
    theirs = make_thread(author=alice, category=category, title="Sampling with care")
    other = make_thread(category=category, title="Sampling at scale")
    reply = make_post(thread=other, author=alice, body="Sampling temperature matters")
    make_post(thread=theirs, body="Sampling is fun")
    found = ids(api.get("/api/v1/search/", {"q": "sampling", "author": "alice"}))
    assert sorted(found) == sorted([("thread", theirs.pk), ("post", reply.pk)])


def test_author_may_be_written_as_a_mention(api, category, alice):
    thread = make_thread(author=alice, category=category, title="Quantization")
    assert ids(api.get("/api/v1/search/", {"q": "quantization", "author": "@ALICE"})) == [("thread", thread.pk)]


def test_an_unknown_author_is_a_400_naming_it(api):
    response = api.get("/api/v1/search/", {"q": "x", "author": "nobody-here"})
    assert response.status_code == 400 and "nobody-here" in response.json()["author"][0]


def test_a_filter_alone_lists_newest_first(api, category, alice):
    older = dated(make_thread(author=alice, category=category, title="First"), "2026-01-05")
    newer = dated(make_thread(author=alice, category=category, title="Second"), "2026-03-05")
    make_thread(category=category, title="Not hers")
    assert ids(api.get("/api/v1/search/", {"author": "alice"})) == [("thread", newer.pk), ("thread", older.pk)]


def test_no_words_and_no_filter_is_a_400_on_q(api):
    response = api.get("/api/v1/search/", {"order": "newest"})
    assert response.status_code == 400 and "q" in response.json()


def test_category_narrows_to_its_threads_and_their_replies(api, category):
    elsewhere = CategoryFactory(slug="elsewhere")
    here = make_thread(category=category, title="Tokenizers")
    reply = make_post(thread=here, body="tokenizers again")
    make_post(thread=make_thread(category=elsewhere, title="Tokenizers too"), body="tokenizers")
    found = ids(api.get("/api/v1/search/", {"q": "tokenizers", "category": "general"}))
    assert sorted(found) == sorted([("thread", here.pk), ("post", reply.pk)])


def test_a_thread_moved_is_found_in_its_new_category(api, category):
    thread = make_thread(category=category, title="Moved along")
    elsewhere = CategoryFactory(slug="elsewhere")
    Thread.objects.filter(pk=thread.pk).update(category=elsewhere)  # as the admin moves it
    assert ids(api.get("/api/v1/search/", {"q": "moved", "category": "elsewhere"})) == [("thread", thread.pk)]
    assert ids(api.get("/api/v1/search/", {"q": "moved", "category": "general"})) == []


def test_a_category_leaves_hub_resources_out(api, category):
    hub.reindex(ResourceFactory(name="tokenizer-lm", title="Tokenizer LM"))
    make_thread(category=category, title="Tokenizer")
    assert [kind for kind, _ in ids(api.get("/api/v1/search/", {"q": "tokenizer", "category": "general"}))] == ["thread"]


def test_an_unknown_category_is_a_400_naming_it(api):
    assert "category" in api.get("/api/v1/search/", {"q": "x", "category": "no-such"}).json()


def test_dates_bound_the_day_they_name(api, category):
    january = dated(make_thread(category=category, title="Batching one"), "2026-01-31")
    february = dated(make_thread(category=category, title="Batching two"), "2026-02-01")
    assert ids(api.get("/api/v1/search/", {"q": "batching", "after": "2026-02-01"})) == [("thread", february.pk)]
    assert ids(api.get("/api/v1/search/", {"q": "batching", "before": "2026-02-01"})) == [("thread", january.pk)]


@pytest.mark.parametrize("params,field", [
    ({"after": "yesterday"}, "after"),
    ({"before": "0001-01-01"}, "before"),
    ({"after": "2026-02-01", "before": "2026-02-01"}, "before"),
    ({"order": "oldest", "q": "x"}, "order"),
    ({"author": "a" * 300}, "author"),
    ({"category": "-" * 100}, "category"),
])
def test_bad_filters_are_a_400_naming_the_field(api, params, field):
    response = api.get("/api/v1/search/", params)
    assert response.status_code == 400 and list(response.json()) == [field]


def test_newest_first_orders_matches_by_date_not_rank(api, category):
    best = dated(make_thread(category=category, title="Adapters adapters", body="adapters"), "2026-01-01")
    latest = dated(make_thread(category=category, title="Other", body="about adapters"), "2026-02-01")
    assert ids(api.get("/api/v1/search/", {"q": "adapters", "order": "newest"})) == [("thread", latest.pk), ("thread", best.pk)]


def test_hub_resources_are_found_by_their_submitter(api, alice):
    resource = ResourceFactory(owner="alice", name="tiny", title="Tiny", submitter=alice)
    hub.reindex(resource)
    hub.reindex(ResourceFactory(name="tiny-two", title="Tiny two"))
    assert ids(api.get("/api/v1/search/", {"q": "tiny", "author": "alice"})) == [("resource", resource.pk)]


def test_hidden_posts_stay_out_of_a_filtered_list(api, category, alice, staff):
    from community import services

    thread = make_thread(author=alice, category=category, title="Hidden soon")
    services.moderate_thread(moderator=staff, thread=thread, action="hide")
    assert ids(api.get("/api/v1/search/", {"author": "alice"})) == []


def test_the_search_page_filters_and_keeps_them_across_pages(client, category, alice):
    for i in range(32):
        make_thread(author=alice, category=category, title=f"Note {i}")
    make_thread(category=category, title="Note by someone else")
    page = client.get("/forum/search/", {"author": "alice", "category": "general"}).content.decode()
    assert "32 results" in page and "someone else" not in page
    assert 'rel="next" href="?author=alice&amp;category=general&amp;page=2"' in page
    assert 'data-testid="search-filters" open' in page


def test_the_search_page_shows_a_bad_filter_beside_its_field(client):
    response = client.get("/forum/search/", {"q": "x", "after": "not-a-date"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'class="field has-error"' in page and "Enter a valid date." in page and "results" not in page


def test_a_profile_links_to_a_search_of_the_members_posts(client, alice):
    page = client.get(f"/u/{alice.username}/").content.decode()
    assert "/forum/search/?author=Alice&amp;order=newest" in page


def test_a_filter_alone_lists_only_the_newest_candidates(api, category, alice, monkeypatch):
    from core import search

    monkeypatch.setattr(search, "CANDIDATES", 2)
    threads = [make_thread(author=alice, category=category, title=f"T{i}") for i in range(3)]
    response = api.get("/api/v1/search/", {"author": "alice"}).json()
    assert response["count"] == 2 and [h["id"] for h in response["results"]] == [threads[2].pk, threads[1].pk]
