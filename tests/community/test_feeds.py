"""RSS feeds hold what anyone may read, and cost the same queries whatever their length."""
import xml.etree.ElementTree as ET

import pytest

from community.models import Post, Thread
from tests.factories import CategoryFactory, make_post, make_thread

pytestmark = pytest.mark.django_db


def items(client, url: str) -> list[dict]:
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/rss+xml")
    channel = ET.fromstring(response.content).find("channel")
    return [{child.tag: child.text for child in item} for item in channel.findall("item")]


def test_the_latest_feed_lists_new_threads_with_their_opening_post(client, category):
    thread = make_thread(category=category, title="How to quantise?", body="Use **GGUF**")
    [item] = items(client, "/forum/latest.rss")
    assert item["title"] == "How to quantise?" and item["link"].endswith(thread.get_absolute_url())
    assert "<strong>GGUF</strong>" in item["description"] and item["guid"] == f"thread-{thread.pk}"


def test_hidden_threads_stay_out_of_every_feed(client, category, staff):
    hidden = make_thread(category=category, title="Hidden one", tags=["x"])
    Thread.objects.filter(pk=hidden.pk).update(is_hidden=True)
    make_thread(category=category, title="Shown one", tags=["x"])
    client.force_login(staff)  # even a moderator's reader gets the public feed
    for url in ("/forum/latest.rss", f"/forum/c/{category.slug}.rss", "/forum/tag/x.rss"):
        assert [item["title"] for item in items(client, url)] == ["Shown one"], url
    assert client.get(f"/forum/t/{hidden.pk}.rss").status_code == 404


def test_a_categorys_feed_holds_its_threads_only(client, category):
    make_thread(category=category, title="Here")
    make_thread(category=CategoryFactory(), title="Elsewhere")
    assert [item["title"] for item in items(client, f"/forum/c/{category.slug}.rss")] == ["Here"]
    assert client.get("/forum/c/nope.rss").status_code == 404


def test_a_tag_with_a_slash_has_its_feed(client, category):
    make_thread(category=category, title="Tagged", tags=["llama/3"])
    assert [item["title"] for item in items(client, "/forum/tag/llama/3.rss")] == ["Tagged"]


def test_a_threads_feed_lists_its_public_posts_newest_first(client, category):
    thread = make_thread(category=category)
    shown = make_post(thread=thread, body="a <script>x</script> reply")
    hidden = make_post(thread=thread, body="hidden reply")
    Post.objects.filter(pk=hidden.pk).update(is_hidden=True)
    listed = items(client, f"/forum/t/{thread.pk}.rss")
    assert [item["guid"] for item in listed] == [f"post-{shown.pk}", f"post-{thread.posts.get(position=1).pk}"]
    assert "<script>" not in listed[0]["description"] and "&lt;script&gt;" in listed[0]["description"]


def test_a_title_is_escaped_in_the_xml(client, category):
    make_thread(category=category, title="<b>bold</b> & co")
    assert items(client, "/forum/latest.rss")[0]["title"] == "<b>bold</b> & co"  # as text, not markup


@pytest.mark.parametrize("count", [3, 30])
def test_a_feed_costs_the_same_queries_whatever_its_length(client, category, count, django_assert_max_num_queries):
    for i in range(count):
        make_thread(category=category, title=f"T{i}", tags=["x"])
    with django_assert_max_num_queries(4):
        client.get(f"/forum/c/{category.slug}.rss")


def test_lists_and_threads_point_readers_at_their_feeds(client, category):
    thread = make_thread(category=category, tags=["x"])
    for url, feed in [("/forum/", "/forum/latest.rss"), (category.get_absolute_url(), f"/forum/c/{category.slug}.rss"),
                      ("/forum/tag/x/", "/forum/tag/x.rss"), (thread.get_absolute_url(), f"/forum/t/{thread.pk}.rss")]:
        page = client.get(url).content.decode()
        assert f'<link rel="alternate" type="application/rss+xml" title="RSS" href="{feed}">' in page, url
        assert f'<a href="{feed}">RSS</a>' in page, url


def test_a_control_character_in_a_post_does_not_break_the_feeds(client, category):
    thread = make_thread(category=category, title="Colours \x1b[31m red", body="a \x0b tab")
    make_post(thread=thread, body="also \x1b here")
    assert items(client, "/forum/latest.rss")[0]["title"] == "Colours \ufffd[31m red"
    assert "\ufffd here" in items(client, f"/forum/t/{thread.pk}.rss")[0]["description"]
