"""Markdown to sanitised HTML, rendered once when text is saved.

markdown-it-py (CommonMark, tables, strikethrough, linkify) with raw HTML off, Pygments for
fenced code, @mentions linked to profiles, then an nh3 allow-list over the result.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

MENTION = re.compile(r"(?<![\w@/])@([A-Za-z0-9_.+-]{1,150})")

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
    try:
        lexer = get_lexer_by_name(lang.strip()) if lang.strip() else None
    except ClassNotFound:
        lexer = None
    if lexer is None:
        return ""  # markdown-it escapes and wraps plain code itself
    return highlight(code, lexer, HtmlFormatter(nowrap=False, cssclass="highlight"))


def _mentions_rule(state) -> None:
    """Turn @name in plain text (not in code or links) into a link to the profile."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        in_link = 0
        for token in block.children:
            if token.type == "link_open":
                in_link += 1
            elif token.type == "link_close":
                in_link -= 1
            if token.type != "text" or in_link or "@" not in token.content:
                children.append(token)
                continue
            last = 0
            for match in MENTION.finditer(token.content):
                if match.start() > last:
                    children.append(_text(token.content[last : match.start()]))
                link = Token("link_open", "a", 1)
                link.attrs = {"href": f"/u/{match.group(1)}/", "class": "mention"}
                children.extend([link, _text(match.group(0)), Token("link_close", "a", -1)])
                last = match.end()
            children.append(_text(token.content[last:]))
        block.children = children


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": True, "highlight": _highlight})
    md.enable(["table", "strikethrough", "linkify"])
    md.core.ruler.push("mentions", _mentions_rule)
    return md


@dataclass(frozen=True)
class Rendered:
    html: str
    mentions: list[str]


def render(source: str) -> Rendered:
    raw = _parser().render(source)
    clean = nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow ugc noopener",
        filter_style_properties={"text-align"},
    )
    mentions = list(dict.fromkeys(m.group(1) for m in MENTION.finditer(_strip_code(source))))
    return Rendered(html=clean, mentions=mentions)


def _strip_code(source: str) -> str:
    without_fences = re.sub(r"```.*?```", "", source, flags=re.S)
    return re.sub(r"`[^`]*`", "", without_fences)


def plain_text(source: str) -> str:
    """Markdown without markup, for search and snippets."""
    return re.sub(r"\s+", " ", nh3.clean(_parser().render(source), tags=set())).strip()
