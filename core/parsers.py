"""Request body parsers for the REST API."""
from __future__ import annotations

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
