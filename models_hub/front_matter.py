"""A card's YAML front matter (as on the Hugging Face Hub), read as plain data.

The YAML is composed into nodes, never constructed into Python objects, and refused early when
it could cost more than its size: anchors and aliases (the "billion laughs"), nesting deeper
than key -> list -> text, more than `MAX_BYTES`, long values or long lists. Every refusal is a
400 on `card` that names the key. Scalars stay the text that was typed (`arxiv: 2106.10100`
keeps its trailing zero, `language: no` stays Norwegian); only `null`/`~`/empty is None.
"""
from __future__ import annotations

import re

import yaml
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from core.services import clean_tags

from .models import Resource
from .validators import LANGUAGE_CODE_MAX_LENGTH, LIBRARY, MAX_LANGUAGES, TASK

# Blanks after a fence are spaces and tabs only: `\s*` there takes newlines too, and on "---"
# followed by many newlines each way of splitting them restarts the lazy scan to the end (an
# anonymous request's worth of hours).
FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
MAX_BYTES = settings.HUB_FRONT_MATTER_MAX_BYTES
MAX_ITEMS = settings.HUB_FRONT_MATTER_MAX_ITEMS
MAX_VALUE_LENGTH = settings.HUB_FRONT_MATTER_MAX_VALUE_LENGTH
# document -> mapping -> list -> text is depth 3; one more so that a nested mapping is refused by
# the key check (which names the key) rather than here. Bounds recursion in the composer.
MAX_DEPTH = 4
NULL_TAG = "tag:yaml.org,2002:null"
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class _Refused(yaml.YAMLError):
    pass


class DataOnlyLoader(yaml.SafeLoader):
    """Composes nodes, refusing anchors, aliases and deep nesting before they are expanded."""

    depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused(_("Anchors and aliases (& and *) are not allowed in the front matter."))
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _Refused(_("The front matter is nested too deeply."))
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _refuse(message: str) -> ValidationError:
    return ValidationError({"card": [message]})


def _shown(key: str) -> str:
    return key if len(key) <= 40 else key[:40] + "…"


def _scalar(key: str, node) -> str | None:
    if not isinstance(node, ScalarNode):
        raise _refuse(_("The front matter key %(key)s must be text or a list of texts, not a nested "
                        "mapping or list.") % {"key": _shown(key)})
    if node.tag == NULL_TAG:
        return None
    if CONTROL.search(node.value):  # "\0" and friends in a quoted YAML string
        raise _refuse(_("A value of the front matter key %(key)s contains control characters.")
                      % {"key": _shown(key)})
    if len(node.value) > MAX_VALUE_LENGTH:
        raise _refuse(_("A value of the front matter key %(key)s is longer than %(n)d characters.")
                      % {"key": _shown(key), "n": MAX_VALUE_LENGTH})
    return node.value


def _value(key: str, node) -> str | list[str] | None:
    if isinstance(node, SequenceNode):
        if len(node.value) > MAX_ITEMS:
            raise _refuse(_("The front matter key %(key)s has more than %(n)d items.")
                          % {"key": _shown(key), "n": MAX_ITEMS})
        return [v for v in (_scalar(key, item) for item in node.value) if v is not None]
    return _scalar(key, node)


def parse(text: str) -> dict:
    """The front matter block's keys and values (text, a list of texts, or None)."""
    if len(text.encode()) > MAX_BYTES:
        raise _refuse(_("The front matter is longer than %(n)d bytes.") % {"n": MAX_BYTES})
    try:
        root = yaml.compose(text, Loader=DataOnlyLoader)
    except _Refused as exc:
        raise _refuse(str(exc))
    except yaml.YAMLError as exc:
        raise _refuse(_("The front matter is not valid YAML: %(e)s") % {"e": exc})
    if root is None:
        return {}
    if not isinstance(root, MappingNode):
        raise _refuse(_("The front matter must be a mapping of keys to values."))
    meta: dict = {}
    for key_node, value_node in root.value:
        if not isinstance(key_node, ScalarNode) or len(key_node.value) > MAX_VALUE_LENGTH:
            raise _refuse(_("Front matter keys must be short plain text."))
        meta[key_node.value] = _value(key_node.value, value_node)
    return meta


def split_front_matter(card: str) -> tuple[dict, str]:
    """The YAML block at the top of a card and the Markdown body after it."""
    match = FRONT_MATTER.match(card or "")
    if not match:
        return {}, card or ""
    return parse(match.group(1)), card[match.end():]


def body_of(card: str) -> str:
    """The Markdown after the front matter, without reading the YAML."""
    match = FRONT_MATTER.match(card or "")
    return card[match.end():] if match else card or ""


def as_list(value) -> list[str]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _first(meta: dict, key: str) -> str:
    return next(iter(as_list(meta.get(key))), "")


def _checked(meta: dict, key: str, field: str, validator) -> str:
    value = _first(meta, key)
    max_length = Resource.max_length(field)
    if value and (len(value) > max_length or not validator.regex.search(value)):
        raise _refuse(_("The front matter key %(key)s is not a valid %(field)s: %(message)s")
                      % {"key": key, "field": field, "message": validator.message})
    return value


# The resource fields that Hugging Face's front matter keys give.
CARD_KEYS = {"license": "license", "task": "pipeline_tag", "library": "library_name", "arxiv_id": "arxiv",
             "languages": "language"}


def card_fields(meta: dict) -> dict:
    """The resource fields whose keys the front matter has (an empty key gives an empty value),
    each validated as strictly as the field itself: a 400 on `card` otherwise."""
    fields = {
        "license": _first(meta, "license")[:Resource.max_length("license")],
        "task": _checked(meta, "pipeline_tag", "task", TASK),
        "library": _checked(meta, "library_name", "library", LIBRARY),
        "arxiv_id": _first(meta, "arxiv").removeprefix("arxiv:")[:Resource.max_length("arxiv_id")],
    }
    languages = as_list(meta.get("language"))
    if len(languages) > MAX_LANGUAGES or any(len(code) > LANGUAGE_CODE_MAX_LENGTH for code in languages):
        raise _refuse(_("The front matter key %(key)s holds at most %(n)d language codes of at most "
                        "%(max)d characters.") % {"key": "language", "n": MAX_LANGUAGES,
                                                  "max": LANGUAGE_CODE_MAX_LENGTH})
    fields["languages"] = languages
    return {field: value for field, value in fields.items() if CARD_KEYS[field] in meta}


def with_metadata(card: str, fields: dict, tags: list[str]) -> str:
    """`card` whose front matter gives exactly these field values and tags (an empty one drops
    its key), its other keys kept (YAML comments are not). A card that agrees is returned as typed."""
    match = FRONT_MATTER.match(card)
    meta = parse(match.group(1)) if match else {}
    present = card_fields(meta)
    agrees = all(present.get(field, type(value)()) == value for field, value in fields.items())
    if agrees and sorted(clean_tags(as_list(meta.get("tags")))) == sorted(tags):
        return card
    for field, value in fields.items():
        if value:
            meta[CARD_KEYS[field]] = value
        else:
            meta.pop(CARD_KEYS[field], None)
    if tags:
        meta["tags"] = tags
    else:
        meta.pop("tags", None)
    rest = card[match.end(1):] if match else f"\n---\n\n{card}"  # from the closing '---', as typed
    if not meta:
        return body_of(card)
    dumped = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, default_flow_style=False, width=4096)
    return f"---\n{dumped.rstrip()}{rest}"
