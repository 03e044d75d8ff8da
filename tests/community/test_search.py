"""Search finds Chinese compounds and English stems; hidden content never shows up."""
import pytest

from community import services
from core import search
from models_hub import services as hub
from tests.factories import ResourceFactory, make_post, make_thread

pytestmark = pytest.mark.django_db

CHINESE_BODY = ("大语言模型通过海量文本进行训练，能够完成翻译、摘要和写代码等任务。"
                "但是训练数据中的数据偏见也会被模型学到。")


@pytest.fixture
def corpus(category):
    zh = make_thread(category=category, title="大语言模型入门", body=CHINESE_BODY, tags=["入门"])
    en = make_thread(category=category, title="Batching requests", body="Batched decoding serves many users at once.")
    reply = make_post(thread=en, body="Quantization shrinks the weights of the model.")
    return zh, en, reply


@pytest.mark.parametrize("query", ["大语言模型", "海量文本", "数据偏见", "翻译"])
def test_chinese_queries_find_the_post(api, corpus, query):
    hits = api.get("/api/v1/search/", {"q": query}).json()["results"]
    assert hits and hits[0]["id"] == corpus[0].pk and hits[0]["type"] == "thread"
    assert "<mark>" in hits[0]["snippet"]


def test_english_words_match_their_stems(api, corpus):
    hits = api.get("/api/v1/search/", {"q": "batch"}).json()["results"]
    assert [h["id"] for h in hits if h["type"] == "thread"] == [corpus[1].pk]


def test_replies_are_searchable_by_type(api, corpus):
    hits = api.get("/api/v1/search/", {"q": "quantization", "type": "post"}).json()["results"]
    assert [h["id"] for h in hits] == [corpus[2].pk]
    assert hits[0]["url"].endswith(f"#post-{corpus[2].pk}")


def test_a_query_matches_only_when_every_word_does(api, corpus):
    assert api.get("/api/v1/search/", {"q": "大语言模型 quantization"}).json()["count"] == 0


def test_title_outranks_body(api, category, settings):
    if not settings.USING_POSTGRES:
        pytest.skip("ranking needs PostgreSQL's ts_rank")
    body_hit = make_thread(category=category, title="Other", body="We discuss tokenizers here.")
    title_hit = make_thread(category=category, title="Tokenizers explained", body="Byte-pair encoding.")
    ids = [h["id"] for h in api.get("/api/v1/search/", {"q": "tokenizers"}).json()["results"]]
    assert ids == [title_hit.pk, body_hit.pk]


def test_hidden_threads_are_not_found(api, corpus, staff):
    services.moderate_thread(moderator=staff, thread=corpus[0], action="hide")
    assert api.get("/api/v1/search/", {"q": "大语言模型"}).json()["count"] == 0


def test_edits_are_reindexed(api, corpus, staff):
    services.edit_post(editor=staff, post=corpus[0].posts.first(), body="微调与量化")
    assert api.get("/api/v1/search/", {"q": "海量文本"}).json()["count"] == 0
    assert api.get("/api/v1/search/", {"q": "量化"}).json()["count"] == 1


@pytest.mark.parametrize("params,field", [({"q": ""}, "q"), ({"q": "x", "type": "user"}, "type")])
def test_bad_search_input_is_400(api, params, field):
    response = api.get("/api/v1/search/", params)
    assert response.status_code == 400 and field in response.json()


def test_snippet_escapes_html_and_marks_matches():
    assert search.snippet("<b>大语言模型</b> rocks", "大语言模型") == "&lt;b&gt;<mark>大语言模型</mark>&lt;/b&gt; rocks"


def test_a_search_for_an_entity_name_marks_only_the_text():
    assert search.snippet("Q&A about amp", "amp") == "Q&amp;A about <mark>amp</mark>"


def test_search_page_shows_highlighted_hits(client, corpus):
    page = client.get("/forum/search/", {"q": "数据偏见"}).content.decode()
    assert "大语言模型入门" in page and "<mark>" in page


def test_search_page_marks_the_words_in_titles_too(client, corpus):
    page = client.get("/forum/search/", {"q": "batching"}).content.decode()
    assert "><mark>Batching</mark> requests</a>" in page


def test_a_resource_is_found_under_its_repo_id_and_its_title_apart(client):
    hub.reindex(ResourceFactory(owner="acme", name="tiny-lm", title="Tiny LM"))
    page = client.get("/forum/search/", {"q": "tiny"}).content.decode()
    assert "acme/<mark>tiny</mark>-lm — <mark>Tiny</mark> LM</a>" in page


def test_thread_list_q_filter_uses_search(api, corpus):
    titles = [t["title"] for t in api.get("/api/v1/threads/", {"q": "海量文本"}).json()["results"]]
    assert titles == ["大语言模型入门"]


def test_ranking_considers_only_the_newest_candidates(api, category, settings, monkeypatch):
    if not settings.USING_POSTGRES:
        pytest.skip("the candidate cap applies to PostgreSQL's ranked search")
    monkeypatch.setattr(search, "CANDIDATES", 2)
    old = make_thread(category=category, title="Tokenizers tokenizers tokenizers", body="tokenizers")
    newer = [make_thread(category=category, title="Other", body=f"about tokenizers {i}") for i in range(2)]
    found = [h["id"] for h in api.get("/api/v1/search/", {"q": "tokenizers"}).json()["results"]]
    assert old.pk not in found and sorted(found) == sorted(t.pk for t in newer)


def test_a_renamed_threads_replies_show_and_match_the_new_title(api, corpus, staff):
    _zh, en, reply = corpus
    services.update_thread(editor=staff, thread=en, title="Continuous batching explained")
    hits = api.get("/api/v1/search/", {"q": "continuous", "type": "post"}).json()["results"]
    assert [(h["id"], h["title"]) for h in hits] == [(reply.pk, "Continuous batching explained")]
    assert hits[0]["url"].startswith(f"/forum/t/{en.pk}/continuous-batching-explained/?post={reply.pk}")
    assert api.get("/api/v1/search/", {"q": "requests", "type": "post"}).json()["count"] == 0
    assert api.get("/api/v1/search/", {"q": "quantization", "type": "post"}).json()["count"] == 1  # its own words stay


def test_the_search_page_reaches_every_result(client, category):
    for i in range(35):
        make_thread(category=category, title=f"Sampling note {i}")
    first = client.get("/forum/search/", {"q": "sampling"}).content.decode()
    second = client.get("/forum/search/", {"q": "sampling", "page": 2}).content.decode()
    assert "35 results" in first and 'rel="next"' in first
    assert second.count('class="row-title"') == 5


def test_the_search_page_names_each_results_kind_in_the_readers_language(client, corpus):
    page = client.get("/forum/search/", {"q": "数据偏见"}, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<span class="badge-kind">主题</span>' in page and 'badge-kind">thread<' not in page
