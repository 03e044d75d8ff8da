"""Request body parsers: JSON from clients, refused with a 400 (never a 500) when Python's json
module accepts what nothing after it can use."""
from __future__ import annotations

import json

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's, with `loads`' refusals: DRF catches only ValueError, and a RecursionError became a
    500; a lone surrogate reached the database, which cannot encode it."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
        try:
            _check_encodable(data)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        return data


def loads(data: str | bytes, **kwargs):
    """`json.loads` for what a client sent: nesting past Python's recursion limit ("[" * 100000)
    and text that is no Unicode (a lone surrogate, "\\ud800", which PostgreSQL and UTF-8 refuse)
    are a ValueError, like any other malformed JSON."""
    try:
        value = json.loads(data, **kwargs)
    except RecursionError:
        raise ValueError("JSON nested too deeply.") from None
    _check_encodable(value)
    return value


def _check_encodable(value) -> None:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("the text holds a lone surrogate, which is no Unicode character.") from None
    except (TypeError, ValueError, RecursionError):
        pass  # not JSON-made (a parse_constant's value): nothing of the client's text to check
