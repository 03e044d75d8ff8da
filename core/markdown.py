"""Markdown to sanitised HTML, rendered once when text is saved.

markdown-it-py (CommonMark, tables, strikethrough, linkify) with raw HTML off, Pygments for
fenced code, @mentions linked to profiles, then an nh3 allow-list over the result.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from urllib.parse import urlsplit

import nh3
from django.conf import settings
from django.contrib.auth import get_user_model
from markdown_it import MarkdownIt
from markdown_it.token import Token

from . import highlighting

# @name: a username's letters (any script: usernames may be 张三), ending on a letter or digit, so
# that "thanks @alice." mentions alice. Not after an ASCII letter, digit or address character (an
# e-mail address is no mention), but right after Chinese text, which puts no space before "@".
MENTION = re.compile(r"(?<![A-Za-z0-9_.@/+-])@(\w(?:[\w.+-]{0,148}\w)?)")

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "div", "em", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "class"},
    "img": {"src", "alt", "title"},
    "code": {"class"},
    "span": {"class"},
    "div": {"class"},
    "pre": {"class"},
    "th": {"style"},
    "td": {"style"},
    "ol": {"start"},
}


def _highlight(code: str, lang: str, _attrs: str) -> str:
    spans = highlighting.highlight(code, language=lang.strip(), nowrap=True) if lang.strip() else None
    if spans is None:
        return ""  # markdown-it escapes and wraps plain code itself
    # One <pre><code>, as for plain code: markdown-it keeps output that starts with "<pre" as it
    # is, and wraps anything else in a <pre><code> of its own (a box inside Pygments' box).
    language = escape(lang.strip().split()[0])
    return f'<pre class="highlight"><code class="language-{language}">{spans}</code></pre>\n'


def _plain_texts(tokens: list[Token]):
    """(text token, whether inside a quote) for each piece of plain text that holds an @: not in
    code, not in a link."""
    quoted = 0
    for block in tokens:
        quoted += {"blockquote_open": 1, "blockquote_close": -1}.get(block.type, 0)
        if block.type != "inline" or not block.children:
            continue
        in_link = 0
        for token in block.children:
            in_link += {"link_open": 1, "link_close": -1}.get(token.type, 0)
            if token.type == "text" and not in_link and "@" in token.content:
                yield block, token, bool(quoted)


def members_named(names: set[str]) -> set[str]:
    """Which of these names (in lower case) are members' usernames, in one query (the user model's
    `named_ignoring_case`: usernames are unique ignoring case)."""
    return set(get_user_model().objects.named_ignoring_case(list(names)).values_list("username_lower", flat=True))


def _mentions_rule(state) -> None:
    """Turn @name in plain text (not in code or links) into a link to the profile when it names a
    member (else "@dataclass" in prose would link to a missing page), and list those names in
    `env["mentions"]`, except inside a quote: quoting a post does not mention again the people it
    mentioned."""
    texts = list(_plain_texts(state.tokens))
    candidates = {match.group(1) for _block, token, _quoted in texts for match in MENTION.finditer(token.content)}
    known = members_named(candidates) if candidates else set()
    replaced: dict[int, list[Token]] = {}
    for _block, token, quoted in texts:
        pieces: list[Token] = []
        last = 0
        for match in MENTION.finditer(token.content):
            if match.group(1).lower() not in known:
                continue
            if match.start() > last:
                pieces.append(_text(token.content[last : match.start()]))
            link = Token("link_open", "a", 1)
            link.attrs = {"href": f"/u/{match.group(1)}/", "class": "mention"}
            pieces.extend([link, _text(match.group(0)), Token("link_close", "a", -1)])
            if not quoted:
                state.env.setdefault("mentions", []).append(match.group(1))
            last = match.end()
        if pieces:
            replaced[id(token)] = [*pieces, _text(token.content[last:])]
    for block in {id(block): block for block, _token, _quoted in texts}.values():
        block.children = [piece for child in block.children for piece in replaced.get(id(child), [child])]


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


@lru_cache(maxsize=4)
def _parser(*, highlight: bool = True, mentions: bool = True) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": True, "highlight": _highlight if highlight else None})
    md.enable(["table", "strikethrough", "linkify"])
    if mentions:
        md.core.ruler.push("mentions", _mentions_rule)
    return md


@dataclass(frozen=True)
class Rendered:
    html: str
    mentions: list[str]


# Where a relative link (is_image False) or image source (True) points, or None to drop it.
RelativeUrls = Callable[[str, bool], "str | None"]


def is_relative(url: str) -> bool:
    """A path such as `docs/a.md` or `./fig.png`: no scheme, no host, not rooted, not a bare #fragment."""
    parts = urlsplit(url)
    return not (parts.scheme or parts.netloc or url.startswith(("/", "#", "?")) or not parts.path)


def _rewrite_relative(tokens: list[Token], relative_urls: RelativeUrls) -> None:
    for block in tokens:
        for token in block.children or ():
            attr, is_image = ("src", True) if token.type == "image" else ("href", False)
            if token.type not in ("image", "link_open") or not is_relative(str(token.attrs.get(attr, ""))):
                continue
            target = relative_urls(str(token.attrs[attr]), is_image)
            if target is None:
                del token.attrs[attr]
            else:
                token.attrs[attr] = target


def render(source: str, *, relative_urls: RelativeUrls | None = None, images: bool = True,
           mentions: bool = True) -> Rendered:
    """`relative_urls` resolves relative links and images (a repository's card points at its files).
    Without `images`, an image is dropped (its URL is never fetched by a reader's browser); without
    `mentions`, @name stays text."""
    env: dict = {}
    parser = _parser(mentions=mentions)
    tokens = parser.parse(source, env)
    if relative_urls is not None:
        _rewrite_relative(tokens, relative_urls)
    with highlighting.budget(settings.HIGHLIGHT_TIMEOUT_S):  # for all its code blocks together
        raw = parser.renderer.render(tokens, parser.options, env)
    clean = nh3.clean(
        raw,
        tags=ALLOWED_TAGS if images else ALLOWED_TAGS - {"img"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow ugc noopener",
        filter_style_properties={"text-align"},
    )
    return Rendered(html=clean, mentions=list(dict.fromkeys(env.get("mentions", []))))


def plain_text(source: str) -> str:
    """Markdown without markup, for search and snippets."""
    return re.sub(r"\s+", " ", nh3.clean(_parser(highlight=False, mentions=False).render(source), tags=set())).strip()
