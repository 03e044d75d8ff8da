"""Settings for the test suite: the real settings in debug mode (the development secret key),
whatever the environment says otherwise. The live servers the tests start inherit it.

Under pytest-xdist each worker process has a test database of its own (pytest-django names it
after the worker) and, from here, a Redis database of its own: the base index plus the worker's
number. Keys named after row ids (event logs, stream slots) and Celery's queues would otherwise
be shared by two runs whose rows have the same ids."""
import os
import re

os.environ["DJANGO_DEBUG"] = "1"


def redis_url_for_worker(url: str, worker: str) -> str:
    number = int(worker.removeprefix("gw"))
    match = re.fullmatch(r"(rediss?://[^/]+)(?:/(\d*))?", url)
    if not match:
        raise ValueError(f"REDIS_URL {url!r}: expected redis://host:port/db to give each test worker a database")
    return f"{match[1]}/{int(match[2] or 0) + number}"


if os.environ.get("REDIS_URL") and os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["REDIS_URL"] = redis_url_for_worker(os.environ["REDIS_URL"], os.environ["PYTEST_XDIST_WORKER"])

# Engines decode on one thread here (the suite's machine has two cores; threads.py's probe is
# tested on its own) rather than timing steps for seconds at every one of the suite's model loads.
os.environ.setdefault("PLAYGROUND_DECODE_THREADS", "1")

from .settings import *  # noqa: E402,F401,F403

# The test process keeps its engines in itself, where the tests look at them (a test of the engine
# process builds one). The live servers the tests start are told the layout (tests/live.py).
if not os.environ.get("PLAYGROUND_ENGINE_PROCESS"):
    PLAYGROUND_ENGINE_PROCESS = "off"
