"""Exceptions that services raise and every door (pages, API, /v1/) turns into a response."""
import math
import re
from datetime import timedelta

from django.utils import timezone
from django.utils.timesince import timeuntil
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# The folders of an absolute path: "/", then one or more "name/", before the file's own name (not
# inside a URL, where a "/" follows ":", "/" or the host's letters).
_SERVER_FOLDERS = re.compile(r"(?<![\w:/.~-])/(?:[\w.@+~-]+/)+(?=[\w.@+~-])")


def without_server_paths(text: str) -> str:
    """`text` with every absolute path cut to its file's name ("…/config.json"): an error is shown
    to members (on a run's page, to anyone its share link reaches), so it names what failed but
    not how the server's disk is laid out. The worker's log keeps the whole text."""
    return _SERVER_FOLDERS.sub("…/", text)


class RateLimited(Exception):
    """Too many writes too fast; `retry_after` says how many seconds to wait."""

    def __init__(self, retry_after: float):
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(f"Rate limited; retry after {self.retry_after}s")


def wait_in_words(seconds: int) -> str:
    """A wait as a person reads it: "45 seconds", or "23 hours, 59 minutes" for a new member's
    day cap, never "86340 seconds"."""
    if seconds < 60:
        return ngettext("%(n)d second", "%(n)d seconds", seconds) % {"n": seconds}
    return timeuntil(timezone.now() + timedelta(seconds=seconds))


def posting_too_fast(exc: RateLimited) -> str:
    """The forum's rate limit in words, wherever a member posts from (a thread, a run's page)."""
    return _("You are posting too fast. Please try again in %(wait)s.") % {"wait": wait_in_words(exc.retry_after)}


class ServiceUnavailable(Exception):
    """A service the request needs (the job queue, say) cannot be reached; nothing was written."""
