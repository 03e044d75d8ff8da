"""Reads of a repository: revisions, trees, folders, histories, diffs."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from urllib.parse import unquote

from django.conf import settings

from core.textdiff import too_costly

from .models import Blob, Commit, Entry
from .storage import read_head

MAIN = "main"
SHA = re.compile(r"^[0-9a-f]{7,40}$")
EMPTY_TREE_SHA = "0" * 40  # the `sha` of a repository that has no commit yet
# Line diffs cost up to quadratic time in a file's length: larger files are listed as changed
# without one, and past a commit's budget the rest are too (as GitHub stops rendering diffs).
DIFF_MAX_BYTES = 64 * 1024
DIFF_BUDGET_BYTES = 512 * 1024


class RevisionNotFound(LookupError):
    pass


def head(resource) -> Commit | None:
    return Commit.objects.filter(resource=resource).order_by("-id").first()


def is_main(revision: str) -> bool:
    """Whether a revision names the one branch, main: by its name or its full name, quoted or
    not (`refs/heads/main`, `refs%2Fheads%2Fmain`, as the Hub's clients write it)."""
    return unquote(revision) in (MAIN, "refs/heads/main")


def resolve(resource, revision: str | None) -> Commit | None:
    """The commit a revision names: `main` (or nothing) is the head, else a full or short sha.
    None for `main` of an empty repository; RevisionNotFound for anything else unknown."""
    revision = (revision or MAIN).strip()
    if is_main(revision):
        return head(resource)
    if SHA.match(revision):
        commits = Commit.objects.filter(resource=resource)
        commit = (commits.filter(sha=revision) if len(revision) == 40
                  else commits.filter(sha__startswith=revision)[:2])
        found = list(commit)
        if len(found) == 1:
            return found[0]
    raise RevisionNotFound(revision)


def entries(commit: Commit | None):
    """The files of a commit, with their blobs, in path order."""
    if commit is None:
        return Entry.objects.none()
    return commit.entries.select_related("blob").order_by("path")


def entry(commit: Commit | None, path: str) -> Entry | None:
    if commit is None:
        return None
    return commit.entries.select_related("blob").filter(path=path).first()


def is_lfs(blob: Blob) -> bool:
    """Files past the regular-upload limit are listed as LFS files, as on the Hugging Face Hub."""
    return blob.size > settings.HUB_REGULAR_UPLOAD_MAX_BYTES


@dataclass
class Node:
    """A row of a folder listing: a file (with its blob) or a folder (with its total size)."""
    name: str
    path: str
    is_dir: bool
    size: int
    blob: Blob | None = None
    files: int = 1


def folder(commit: Commit | None, prefix: str = "") -> list[Node]:
    """The direct children of a folder, folders first; `prefix` is '' or 'a/b'."""
    start = f"{prefix}/" if prefix else ""
    rows = entries(commit)
    if prefix:
        rows = rows.filter(path__startswith=start)
    dirs: dict[str, Node] = {}
    files: list[Node] = []
    for row in rows:
        rest = row.path[len(start):]
        name, sep, _tail = rest.partition("/")
        if sep:
            node = dirs.setdefault(name, Node(name=name, path=start + name, is_dir=True, size=0, files=0))
            node.size += row.blob.size
            node.files += 1
        else:
            files.append(Node(name=name, path=row.path, is_dir=False, size=row.blob.size, blob=row.blob))
    return sorted(dirs.values(), key=lambda n: n.name) + files


def history(resource):
    return Commit.objects.filter(resource=resource).select_related("author").order_by("-id")


def readable_text(blob: Blob, max_bytes: int) -> str | None:
    """The blob as UTF-8 text when it is small enough and is text, else None."""
    if blob.size > max_bytes:
        return None
    data = read_head(blob, max_bytes)
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


@dataclass
class FileChange:
    path: str
    status: str  # "added" | "deleted" | "modified"
    old: Blob | None
    new: Blob | None
    diff: str | None  # unified diff of text files, None for binary or large ones
    over_budget: bool = False  # no diff: the commit's earlier files used the page's budget, or too costly


def changes(commit: Commit) -> list[FileChange]:
    """What a commit changed against its parent, with unified diffs of small text files."""
    new = {e.path: e.blob for e in entries(commit)}
    old = {e.path: e.blob for e in entries(commit.parent)} if commit.parent_id else {}
    result = []
    budget = DIFF_BUDGET_BYTES
    for path in sorted(set(new) | set(old)):
        before, after = old.get(path), new.get(path)
        if before is not None and after is not None and before.pk == after.pk:
            continue
        status = "added" if before is None else "deleted" if after is None else "modified"
        sizes = [b.size for b in (before, after) if b is not None]
        if max(sizes) <= DIFF_MAX_BYTES and sum(sizes) > budget:
            result.append(FileChange(path=path, status=status, old=before, new=after, diff=None, over_budget=True))
            continue
        texts = [readable_text(b, DIFF_MAX_BYTES) if b is not None else "" for b in (before, after)]
        diff = None
        if None not in texts:
            lines = [text.splitlines(keepends=True) for text in texts]
            if too_costly(*lines):
                result.append(FileChange(path=path, status=status, old=before, new=after, diff=None,
                                         over_budget=True))
                continue
            budget -= sum(sizes)
            diff = "".join(difflib.unified_diff(*lines, fromfile=f"a/{path}", tofile=f"b/{path}"))
        result.append(FileChange(path=path, status=status, old=before, new=after, diff=diff))
    return result
