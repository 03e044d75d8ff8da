"""The files of a repository at a commit, written into a local directory: how a worker gets a
"repo" runtime's model (see playground.engine.loading.materialise, which calls this)."""
from __future__ import annotations

from pathlib import Path

from ..models import Resource
from .paths import clean_path
from .reads import entries
from .storage import copy_to


def fetch_repository(location: str, revision: str, target: Path) -> None:
    """`location` is "kind/owner/name"; every path is re-checked, so nothing lands outside
    `target` whatever the rows say."""
    kind, _, repo_id = location.partition("/")
    resource = Resource.objects.get(kind=kind, repo_id=repo_id)
    commit = resource.commits.get(sha=revision)
    root = target.resolve()
    for row in entries(commit):
        destination = (root / clean_path(row.path)).resolve()
        if root not in destination.parents:
            raise ValueError(f"{row.path!r} would land outside the model directory.")
        copy_to(row.blob, destination)
