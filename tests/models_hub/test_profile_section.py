"""A member's profile lists what they own in the hub, and a resource links back to its owner."""
import pytest
from django.test import Client

from core.services import tags_named
from tests.factories import ResourceFactory, UserFactory, make_post, make_thread

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    return UserFactory(username="alice")


def test_the_profile_lists_the_members_resources_newest_first(client, alice):
    ResourceFactory(owner="alice", name="older", submitter=alice)
    ResourceFactory(owner="alice", name="newer", kind="dataset", submitter=alice)
    ResourceFactory(owner="bob", name="not-hers", submitter=alice)
    page = client.get("/u/alice/").content.decode()
    assert "Models, datasets and more" in page
    assert page.index("alice/newer") < page.index("alice/older") and "not-hers" not in page
    assert "See all in the hub" not in page


def test_a_draft_shows_on_the_profile_to_its_owner_only(client, alice):
    ResourceFactory(owner="alice", name="draft", submitter=alice, is_published=False)
    assert "alice/draft" not in client.get("/u/alice/").content.decode()
    client.force_login(alice)
    assert "alice/draft" in client.get("/u/alice/").content.decode()


def test_a_member_named_like_an_organisation_does_not_get_its_models(client):
    ResourceFactory(owner="HuggingFaceTB", name="SmolLM2", submitter=UserFactory())
    UserFactory(username="HuggingFaceTB")
    assert "SmolLM2" not in client.get("/u/HuggingFaceTB/").content.decode()


def test_a_member_with_nothing_in_the_hub_has_no_section(client, alice):
    assert "Models, datasets and more" not in client.get("/u/alice/").content.decode()


def test_many_resources_link_to_the_hub_list_of_them_all(client, alice):
    for i in range(7):
        ResourceFactory(owner="alice", name=f"m{i}", submitter=alice)
    page = client.get("/u/alice/").content.decode()
    assert page.count('class="row-title"') == 6 and 'href="/hub/?author=alice"' in page


@pytest.mark.parametrize("n", [2, 12])
def test_the_profile_page_query_count_does_not_grow(alice, category, n, django_assert_max_num_queries):
    for i in range(n):
        ResourceFactory(owner="alice", name=f"m{i}", submitter=alice).tags.set(tags_named(["llm", f"t{i}"]))
        make_post(thread=make_thread(author=alice, category=category), author=alice)
    browser = Client()
    browser.force_login(alice)
    with django_assert_max_num_queries(9):
        assert browser.get("/u/alice/").status_code == 200


def test_a_resource_links_to_its_owners_profile_when_a_member_owns_it(client, alice):
    mine = ResourceFactory(owner="alice", name="m", submitter=alice)
    org = ResourceFactory(owner="Helsinki-NLP", name="opus", submitter=alice)
    assert 'href="/u/alice/"' in client.get(mine.get_absolute_url()).content.decode()
    assert "/u/Helsinki-NLP/" not in client.get(org.get_absolute_url()).content.decode()

