"""Highlighting runs out of harm's way: a lexer that would take seconds on text made for it is
stopped, the text is shown plain, and the next highlight works."""
import pytest

from core import highlighting, markdown

# About 5 s of Pygments' systemd lexer (cubic in the run of spaces) on this machine.
SLOW = " " * 800 + "x"


@pytest.fixture
def short_timeout(settings):
    settings.HIGHLIGHT_TIMEOUT_S = 0.5


def test_code_is_highlighted_by_language_or_file_name():
    assert '<span class="k">def</span>' in highlighting.highlight("def f(): pass", language="python")
    assert '<span class="k">def</span>' in highlighting.highlight("def f(): pass", filename="f.py")


def test_an_unknown_language_is_none():
    assert highlighting.highlight("x", language="no-such-language") is None


def test_a_lexer_that_runs_out_of_time_is_stopped_and_the_next_one_works(short_timeout):
    assert highlighting.highlight(SLOW, filename="unit.service") is None
    assert "<span" in highlighting.highlight("x = 1", language="python")


def test_text_shown_plain_is_not_lexed_again(short_timeout, monkeypatch):
    highlighting.highlight(SLOW, filename="unit.service")
    monkeypatch.setattr(highlighting._worker, "call", lambda *a: pytest.fail("lexed again"))
    assert highlighting.highlight(SLOW, filename="unit.service") is None


def test_text_past_the_limit_is_shown_plain(settings):
    settings.HIGHLIGHT_MAX_CHARS = 10
    assert highlighting.highlight("x = 1  # a comment", language="python") is None


def test_plain_text_keeps_the_highlighted_markup(short_timeout):
    html = highlighting.highlight_or_plain(SLOW, filename="unit.service", cssclass="highlight", linenos="table")
    assert 'class="highlight"' in html and "linenos" in html and "x\n" in html


def test_a_posts_code_blocks_share_one_time_budget(short_timeout, monkeypatch):
    lexed = []
    call = highlighting._worker.call
    monkeypatch.setattr(highlighting._worker, "call", lambda request, timeout, **kw: lexed.append(timeout) or call(request, timeout, **kw))
    html = markdown.render(f"```systemd\n{SLOW}\n```\n\n```python\nx = 1\n```\n").html
    assert len(lexed) == 1  # the first block spent it all: the second is shown plain, unlexed
    assert html.count("<pre") == 2 and 'class="highlight"' not in html


def test_a_hub_file_made_to_be_slow_to_lex_is_shown_plain(client, user, short_timeout):
    from models_hub import services
    from tests.models_hub.repo_helpers import commit

    resource = services.save_resource(user=user, data={"kind": "model", "name": "m", "title": "M"})
    commit(resource, user, {"unit.service": SLOW.encode()})
    response = client.get(f"{resource.get_absolute_url()}files/main/unit.service")
    assert response.status_code == 200 and 'class="highlight"' in response.content.decode()


def test_a_text_that_waited_for_another_is_shown_plain_but_not_remembered_so(monkeypatch):
    monkeypatch.setattr(highlighting._worker, "call", lambda *a, **kw: {"reason": "busy", "error": "busy"})
    assert highlighting.highlight("x = 1", language="python") is None
    monkeypatch.undo()
    assert "<span" in highlighting.highlight("x = 1", language="python")


def test_a_block_cut_short_by_a_spent_budget_is_not_remembered_as_plain(short_timeout, monkeypatch):
    remembered = []

    class Remembering:
        def get(self, key):
            return None

        def set(self, key, value, timeout=None):
            remembered.append(key)

    monkeypatch.setattr(highlighting, "cache", Remembering())
    with highlighting.budget(0.05):
        assert highlighting.highlight(SLOW, filename="unit.service") is None
    assert remembered == []
