"""Each runtime has a Celery queue of its own, so that workers can serve some models and not
others: one worker per GPU for embedded models, I/O-bound workers with many threads for models
behind an OpenAI-compatible server."""
from __future__ import annotations

import re

from models_hub.models import Runtime

PREFIX = "inference."


def queue_name(repo_id: str) -> str:
    """`inference.<owner>.<name>`, lower-case, in characters every broker accepts."""
    return PREFIX + re.sub(r"[^a-z0-9._-]+", "-", repo_id.lower().replace("/", "."))


def queue_for(runtime: Runtime) -> str:
    return queue_name(runtime.queue_owner.repo_id)


def queues(*, backend: str | None = None) -> list[str]:
    """The queues of enabled runtimes (of one backend), for a worker's `-Q`."""
    runtimes = (Runtime.objects.filter(enabled=True, base__isnull=True)  # adapters use their base's queue
                .select_related("resource").order_by("resource__owner", "resource__name"))
    if backend:
        runtimes = runtimes.filter(backend=backend)
    return [queue_for(runtime) for runtime in runtimes]
