"""Where a reconnecting event-stream client left off."""
import pytest
from django.test import RequestFactory

from core.sse import last_event_id


@pytest.mark.parametrize(("header", "expected"), [
    (None, 0), ("17", 17), ("seven", None), ("²", None), ("١٢", None), ("-1", None), ("9" * 10, None)])
def test_last_event_id_takes_only_ascii_digits(header, expected):
    headers = {"HTTP_LAST_EVENT_ID": header} if header is not None else {}
    assert last_event_id(RequestFactory().get("/", **headers)) == expected


def test_a_superscript_digit_in_the_query_is_malformed_not_a_crash():
    assert last_event_id(RequestFactory().get("/", {"last_event_id": "²"})) is None
