"""The child's side of `core.sandbox`: serve one JSON request per line on stdin with one JSON
answer per line on stdout, under the address-space limit the parent set (SANDBOX_MEMORY_BYTES).
Imports nothing of Django or the project, so that the child starts in a fraction of a second."""
from __future__ import annotations

import json
import os
import resource
import sys
from typing import Callable


def serve(handle: Callable[[dict], object]) -> None:
    limit = int(os.environ.get("SANDBOX_MEMORY_BYTES") or 0)
    if limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    for line in sys.stdin:
        try:
            answer = json.dumps({"result": handle(json.loads(line))}, default=str)
        except MemoryError:
            answer = json.dumps({"reason": "memory", "error": "It needs more memory than it may use."})
        except Exception as exc:  # this request fails; the next one is served
            answer = json.dumps({"reason": "exception", "error": f"{type(exc).__name__}: {exc}"[:300]})
        sys.stdout.write(answer + "\n")
        sys.stdout.flush()
