"""Helpers for repository tests: files committed through the services, as an upload would."""
from __future__ import annotations

from models_hub.repos.commits import Changes, commit_files
from models_hub.repos.storage import spool_bytes, store


def blob(data: bytes, path: str = "f"):
    return store(spool_bytes(data, label=path))


def commit(resource, user, files: dict[str, bytes] | None = None, *, deletions=(), title="Upload", **kwargs):
    changes = Changes(additions=[(p, blob(d, p)) for p, d in (files or {}).items()], deletions=list(deletions))
    return commit_files(resource=resource, user=user, title=title, changes=changes, **kwargs)
