"""Exceptions that services raise and every door (pages, API, /v1/) turns into a response."""
import math
import re

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


class ServiceUnavailable(Exception):
    """A service the request needs (the job queue, say) cannot be reached; nothing was written."""
