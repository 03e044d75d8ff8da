"""A card's front matter is data: bounded in size, shape and cost, refused with a 400 on `card`."""
import time

import pytest

from models_hub.models import Resource

pytestmark = pytest.mark.django_db


def create(client, card):
    return client.post("/api/v1/resources/", {"kind": "model", "name": "m", "title": "M", "card": card},
                       format="json")


def billion_laughs(levels: int = 8) -> str:
    """Each level is nine aliases of the one before: 9**levels strings from ~300 bytes."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    return "---\n" + "\n".join(lines) + "\n---\nbody"


def assert_refused_on_card(response, *words):
    assert response.status_code == 400, response.content
    message = " ".join(response.json()["card"])
    assert all(word in message for word in words), message
    assert not Resource.objects.exists()


def test_billion_laughs_is_refused_at_once(as_user):
    card = billion_laughs()
    assert len(card.encode()) < 600
    started = time.perf_counter()
    response = create(as_user, card)
    assert time.perf_counter() - started < 1
    assert_refused_on_card(response, "alias")


def test_a_single_alias_is_refused(as_user):
    assert_refused_on_card(create(as_user, "---\nlicense: &l mit\nbase_model: *l\n---\nbody"), "alias")


def test_deep_nesting_is_a_400_not_a_recursion_error(as_user):
    assert_refused_on_card(create(as_user, "---\nx: " + "[" * 3000 + "]" * 3000 + "\n---\nbody"))


def test_front_matter_over_the_size_limit_is_refused(as_user, settings):
    card = "---\n" + "".join(f"k{i}: {'v' * 90}\n" for i in range(100)) + "---\nbody"
    assert_refused_on_card(create(as_user, card), "8192")


def test_a_nested_mapping_is_refused_naming_its_key(as_user):
    assert_refused_on_card(create(as_user, "---\nmodel-index:\n  name: x\n---\nbody"), "model-index")


def test_a_long_list_is_refused_naming_its_key(as_user):
    card = "---\ntags: [" + ", ".join(f"t{i}" for i in range(51)) + "]\n---\nbody"
    assert_refused_on_card(create(as_user, card), "tags", "50")


def test_a_long_value_is_refused_naming_its_key(as_user):
    assert_refused_on_card(create(as_user, f"---\nlicense: {'x' * 201}\n---\nbody"), "license", "200")


HF_CARD = """---
license: apache-2.0
language:
- en
- zh
- no
tags:
- text-generation
- Chat Model
datasets:
- acme/corpus
- acme/other
base_model: acme/base-1b
pipeline_tag: text-generation
library_name: transformers
arxiv: 2106.10100
inference: false
thumbnail: null
---
# A fine-tune
"""


def test_hugging_face_style_front_matter_fills_the_metadata(as_user, user):
    from tests.factories import ResourceFactory

    corpus = ResourceFactory(kind="dataset", owner="acme", name="corpus")
    base = ResourceFactory(kind="model", owner="acme", name="base-1b")
    response = create(as_user, HF_CARD)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["license"], data["task"], data["library"]) == ("apache-2.0", "text-generation", "transformers")
    assert data["languages"] == ["en", "zh", "no"]  # `no` is Norwegian, not False
    assert data["arxiv_id"] == "2106.10100"  # read as text: no float rounding to 2106.101
    assert data["tags"] == ["chat-model", "text-generation"]
    assert sorted(r["repo_id"] for r in data["related"]) == sorted([corpus.repo_id, base.repo_id])


def test_a_drafts_links_do_not_show_on_the_pages_it_names(as_user, user, client, api):
    from tests.factories import ResourceFactory

    base = ResourceFactory(kind="model", owner="acme", name="base-1b")
    draft = create(as_user, "---\nbase_model: acme/base-1b\n---\n# Secret fine-tune\n").json()
    Resource.objects.filter(pk=draft["id"]).update(is_published=False)
    assert draft["repo_id"] not in client.get(base.get_absolute_url()).content.decode()
    assert api.get(f"/api/v1/resources/{base.pk}/").json()["related"] == []
    assert [r["repo_id"] for r in as_user.get(f"/api/v1/resources/{base.pk}/").json()["related"]] == [draft["repo_id"]]


@pytest.mark.timeout(30)  # the fence's old `\s*` took minutes here, holding the server's interpreter
def test_a_fence_followed_by_many_newlines_is_read_at_once(client):
    response = client.post("/api/validate-yaml", {"content": "---" + "\n" * 100_000}, content_type="application/json")
    assert response.status_code == 200 and response.json() == {}


def test_front_matter_with_windows_line_ends_fills_the_metadata(as_user):
    response = create(as_user, "---\r\nlicense: mit\r\n---\r\n# Hello")
    assert response.status_code == 201, response.content
    assert Resource.objects.get().license == "mit"
