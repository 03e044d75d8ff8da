"""Request body parsers for the REST API."""
from __future__ import annotations

import json

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's, with a body nested past Python's recursion limit ("[" * 100000, well under the
    size limit) refused with a 400 like any malformed body: DRF catches only ValueError, and the
    RecursionError became a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None


def loads(data: str | bytes, **kwargs):
    """`json.loads` for what a client sent: nesting past Python's recursion limit is a ValueError,
    like any other malformed JSON, rather than a RecursionError that nobody catches."""
    try:
        return json.loads(data, **kwargs)
    except RecursionError:
        raise ValueError("JSON nested too deeply.") from None
