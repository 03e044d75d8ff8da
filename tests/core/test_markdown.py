"""Posts are rendered once and sanitised: no script-capable markup ever reaches a page."""
import pytest
from django.urls import reverse

from core.markdown import is_relative, render
from tests.factories import UserFactory
from tests.xss import XSS_VECTORS, dangerous_parts

pytestmark = pytest.mark.django_db  # mentions link only names that members hold


@pytest.fixture
def members():
    for name in ("alice", "bob", "carol", "dave", "张三", "first.last"):
        UserFactory(username=name)


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


def test_highlighted_code_is_one_block_like_plain_code():
    html = render("```python\nx = 1\n```").html
    assert html.count("<pre") == 1 and html.startswith('<pre class="highlight"><code class="language-python">')


def test_links_get_rel_nofollow_ugc_noopener():
    html = render("see https://example.com").html
    assert 'href="https://example.com"' in html
    assert 'rel="nofollow ugc noopener"' in html


def test_tables_and_strikethrough():
    html = render("| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~").html
    assert "<table>" in html and "<s>old</s>" in html


def test_mentions_link_to_profiles_once_and_not_in_code(members):
    rendered = render("hi @alice and @alice again, but not `@bob` in code")
    assert rendered.mentions == ["alice"]
    assert 'href="/u/alice/"' in rendered.html


@pytest.mark.parametrize(("source", "names"), [
    ("thanks @alice.", ["alice"]),            # the sentence's full stop is not the name's
    ("ask @bob-, or @carol+?", ["bob", "carol"]),
    ("谢谢@alice的回答", []),                  # no space before @ in Chinese; the name runs on, as on Discourse
    ("谢谢@alice 的回答", ["alice"]),
    ("@张三 你好", ["张三"]),                  # usernames may be in any script
    ("@first.last: hi", ["first.last"]),
    ("mail me at x@alice.com", []),           # an address is no mention
    ("see a@b and C@d", []),
])
def test_which_names_a_post_mentions(members, source, names):
    assert render(source).mentions == names


def test_mentions_inside_a_quote_are_linked_but_do_not_mention_again(members):
    rendered = render("> @bob said so\n\nI agree, @carol")
    assert rendered.mentions == ["carol"]
    assert 'href="/u/bob/"' in rendered.html


def test_mentions_in_any_code_block_are_not_mentions(members):
    assert render("~~~\n@bob\n~~~\n\n    @carol\n\n`@dave`").mentions == []


def test_a_name_no_member_holds_stays_text(members):
    rendered = render("Use @dataclass, as @Alice said")
    assert rendered.mentions == ["Alice"]  # a member's name in any case
    assert "@dataclass" in rendered.html and "/u/dataclass/" not in rendered.html
    assert 'href="/u/Alice/"' in rendered.html


def test_a_text_without_an_at_sign_asks_nothing_of_the_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        render("plain text, **bold** and a [link](https://example.com)")


def test_raw_html_is_shown_as_text():
    assert "&lt;b&gt;" in render("<b>bold?</b>").html


@pytest.mark.django_db
def test_markdown_preview_is_sanitised(client, user):
    client.force_login(user)
    response = client.post(reverse("core:markdown-preview"), {"body": "**hi** <script>x</script>"})
    assert "<strong>hi</strong>" in response.content.decode() and "<script>" not in response.content.decode()


@pytest.mark.django_db
def test_markdown_preview_is_for_members_within_a_rate(client, user, settings):
    assert client.post(reverse("core:markdown-preview"), {"body": "x"}).status_code == 403
    settings.MARKDOWN_PREVIEW_RATE = "2/min"
    client.force_login(user)
    codes = [client.post(reverse("core:markdown-preview"), {"body": "x"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


@pytest.mark.parametrize("url,relative", [("fig.png", True), ("./docs/a.md#x", True), ("../up.md", True),
                                          ("/abs", False), ("#top", False), ("?q", False),
                                          ("https://e.org/x", False), ("//e.org/x", False),
                                          ("mailto:a@b.c", False)])
def test_relative_urls_are_told_apart(url, relative):
    assert is_relative(url) is relative


def test_relative_links_and_images_are_resolved_and_others_kept():
    seen = []

    def resolve(url, is_image):
        seen.append((url, is_image))
        return None if url == "drop.md" else f"/r/{url}"

    html = render("[a](a.md) ![f](fig.png) [d](drop.md) [w](https://e.org/) [t](#top)",
                  relative_urls=resolve).html
    assert seen == [("a.md", False), ("fig.png", True), ("drop.md", False)]
    assert 'href="/r/a.md"' in html and 'src="/r/fig.png"' in html and "<a>d</a>" in html.replace(' rel="nofollow ugc noopener"', "")
    assert 'href="https://e.org/"' in html and 'href="#top"' in html
