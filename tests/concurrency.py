"""Running service calls on threads of their own, as concurrent requests do."""
from __future__ import annotations

import threading
from typing import Callable

from django.db import connection


def started(fn: Callable[[], object], errors: list) -> threading.Thread:
    """`fn` on a started thread with a database connection of its own, given back when it ends
    (as a request's or a task's); whatever it raises is appended to `errors`."""
    def run() -> None:
        try:
            fn()
        except Exception as exc:  # the test asserts on `errors`
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread
