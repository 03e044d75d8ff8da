"""Posts are rendered once and sanitised: no script-capable markup ever reaches a page."""
import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from core.markdown import render

# Vectors from OWASP's XSS filter evasion cheat sheet, as a member could type them.
XSS_VECTORS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://xss.example/xss.js></SCRIPT>",
    '<IMG SRC="javascript:alert(\'XSS\');">',
    "<IMG SRC=javascript:alert('XSS')>",
    '<IMG SRC=`javascript:alert("RSnake says, \'XSS\'")`>',
    '<a onmouseover="alert(document.cookie)">xxs link</a>',
    "<IMG SRC=# onmouseover=\"alert('xxs')\">",
    '<IMG SRC=/ onerror="alert(String.fromCharCode(88,83,83))"></img>',
    "<img src=x onerror=\"&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041\">",
    '<IMG SRC="jav\tascript:alert(\'XSS\');">',
    "<BODY ONLOAD=alert('XSS')>",
    '<svg/onload=alert("XSS")>',
    '<iframe src="javascript:alert(1)"></iframe>',
    "<STYLE>li {list-style-image: url(\"javascript:alert('XSS')\");}</STYLE><UL><LI>XSS</br>",
    '<DIV STYLE="background-image: url(javascript:alert(\'XSS\'))">',
    '<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:alert(\'XSS\');">',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![img](javascript:alert(1))",
    '[x](https://example.com "title" onmouseover=alert(1))',
    "<object data=\"javascript:alert(1)\"></object>",
    "<form action=javascript:alert(1)><button>go</button></form>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
]
SCRIPT_CAPABLE_TAGS = {"script", "iframe", "object", "embed", "style", "meta", "form", "svg", "math", "body",
                       "link", "base"}


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))


def dangerous_parts(html: str) -> list[str]:
    """What a browser would execute: script-capable tags, event handlers, script or HTML URLs."""
    collector = _Collector()
    collector.feed(html)
    problems = []
    for tag, attrs in collector.found:
        if tag in SCRIPT_CAPABLE_TAGS:
            problems.append(tag)
        for name, value in attrs:
            url = re.sub(r"[\x00-\x20]", "", (value or "")).lower()
            if name.startswith("on") or name == "style" and "url(" in url:
                problems.append(name)
            if name in ("href", "src", "action", "data") and url.startswith(("javascript:", "vbscript:", "data:")):
                problems.append(f"{name}={value}")
    return problems


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
