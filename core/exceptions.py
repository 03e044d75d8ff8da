"""Exceptions that services raise and every door (pages, API, /v1/) turns into a response."""
import math


class RateLimited(Exception):
    """Too many writes too fast; `retry_after` says how many seconds to wait."""

    def __init__(self, retry_after: float):
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(f"Rate limited; retry after {self.retry_after}s")


class ServiceUnavailable(Exception):
    """A service the request needs (the job queue, say) cannot be reached; nothing was written."""
