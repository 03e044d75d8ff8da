"""Posts are rendered once and sanitised: no script-capable markup ever reaches a page."""
import pytest
from django.urls import reverse

from core.markdown import render
from tests.xss import XSS_VECTORS, dangerous_parts

@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_no_script_capable_markup_survives(vector):
    html = render(vector).html
    assert dangerous_parts(html) == [], html


def test_the_checker_itself_catches_script():
    assert dangerous_parts('<a href="javascript:x" onclick="y">a</a><script></script>') == [
        "href=javascript:x", "onclick", "script"]


def test_fenced_code_is_highlighted():
    html = render("```python\ndef f():\n    return 1\n```").html
    assert 'class="highlight"' in html and "<span" in html


def test_links_get_rel_nofollow_ugc_noopener():
    html = render("see https://example.com").html
    assert 'href="https://example.com"' in html
    assert 'rel="nofollow ugc noopener"' in html


def test_tables_and_strikethrough():
    html = render("| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~").html
    assert "<table>" in html and "<s>old</s>" in html


def test_mentions_link_to_profiles_once_and_not_in_code():
    rendered = render("hi @alice and @alice again, but not `@bob` in code")
    assert rendered.mentions == ["alice"]
    assert 'href="/u/alice/"' in rendered.html


def test_raw_html_is_shown_as_text():
    assert "&lt;b&gt;" in render("<b>bold?</b>").html


def test_markdown_preview_is_sanitised(client):
    response = client.post(reverse("core:markdown-preview"), {"body": "**hi** <script>x</script>"})
    assert "<strong>hi</strong>" in response.content.decode() and "<script>" not in response.content.decode()
