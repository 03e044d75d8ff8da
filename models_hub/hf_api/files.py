"""GET/HEAD /[datasets/]{ns}/{name}/resolve/{rev}/{path}: a file at a revision, as the HF client
expects it (X-Repo-Commit, a quoted ETag that names the content, X-Linked-Size/-Etag, Range).
The web process streams the bytes in chunks on the event loop, at most HUB_MAX_DOWNLOADS_PER_CLIENT
files at once per client (each holds a file and up to two 4 MiB parts: its chunk and the socket's
buffer); with object storage it redirects to a pre-signed URL instead. Never any Xet header: the
client then downloads over plain HTTP."""
from __future__ import annotations

import logging
import mimetypes
import re
from urllib.parse import quote

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import DatabaseError
from django.db.models import F
from django.http import HttpResponse, HttpResponseRedirect, StreamingHttpResponse

from core import slots

from ..repos.models import Blob
from ..repos.reads import entry, is_lfs
from ..repos.storage import download_url, iter_bytes
from .common import TYPES, HubError, get_commit, get_repo, hub_view, sha_of, token_user

log = logging.getLogger(__name__)
RANGE = re.compile(r"^bytes=(\d{0,19})-(\d{0,19})$")  # no file is longer than 19 digits of bytes
SEND_CHUNK_BYTES = 4 * 1024 * 1024  # fewer thread hops per file; config.asgi sends each part whole
# A download's slot is renewed every half of this while the download lasts, so one of many hours
# keeps it, and one whose process died frees it within this (plus a grace).
SLOT_S = 300
DOWNLOADS = slots.Slots("hub:download", limit=lambda: settings.HUB_MAX_DOWNLOADS_PER_CLIENT, lasts_s=lambda: SLOT_S)


# Served from the site's own origin, a file must never become a page: HTML or script in a
# member's repository would run with the site's cookies. Images display and text reads as
# text; anything else downloads, and the sandbox keeps even a displayed file scriptless.
INLINE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp",
                "image/svg+xml", "application/json"}
TEXT_TYPES = {"application/x-yaml", "application/yaml", "application/toml", "application/xml",
              "application/javascript", "application/x-sh", "application/x-python-code"}
FILE_CSP = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"


def served_type(path: str) -> str:
    """The Content-Type a stored file is served with: never one a browser would run."""
    guessed = mimetypes.guess_type(path)[0] or ""
    if guessed in INLINE_TYPES:
        return guessed
    if guessed.startswith("text/") or guessed in TEXT_TYPES:
        return "text/plain; charset=utf-8"
    return "application/octet-stream"


def etag_of(blob: Blob) -> str:
    """The blob's sha256 for LFS-sized files, its git blob id otherwise (as the Hub does)."""
    return blob.sha256 if is_lfs(blob) else blob.git_oid


async def _chunks(blob: Blob, start: int, end: int, slot: str | None):
    """The bytes from `start` to `end`, holding the download's slot while they go."""
    async with DOWNLOADS.held(slot):
        chunks = iter_bytes(blob, start, end, chunk_bytes=SEND_CHUNK_BYTES)
        step = sync_to_async(next, thread_sensitive=False)
        while True:
            chunk = await step(chunks, None)
            if chunk is None:
                return
            yield chunk


def _download_slot(request) -> str | None:
    """One of the client's download slots (the token's member, the session's, or the address);
    HubError 429 when all are taken."""
    user = token_user(request) or getattr(request, "user", None) or AnonymousUser()
    try:
        return DOWNLOADS.take(slots.client_id(request, user))
    except slots.NoFreeSlot as exc:
        raise HubError(429, "Too many downloads at once: wait for one to finish.", "TooManyRequests",
                       headers={"Retry-After": str(exc.retry_after)})


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(start, end) of a single `bytes=` range, None when absent; HubError 416 when unsatisfiable."""
    if not header:
        return None
    match = RANGE.match(header.strip())
    if not match or (not match.group(1) and not match.group(2)):
        return None  # several ranges or another unit: the whole file, as RFC 9110 allows
    if match.group(1):
        start = int(match.group(1))
        end = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
    else:
        start, end = max(size - int(match.group(2)), 0), size - 1
    if start >= size or end < start:
        raise HubError(416, f"Range {header} is not satisfiable.", "RangeNotSatisfiable",
                       headers={"Content-Range": f"bytes */{size}"})
    return start, end


NOT_A_DOWNLOAD = {"README.md", ".gitattributes"}


def _count_download(request, resource, path: str) -> None:
    """One more download of the repository, once per client per HUB_DOWNLOAD_WINDOW_S, however
    many files a snapshot fetches. Its card and the images the card shows (every page view loads
    them) are not downloads. A nicety: a cache or database that fails costs the file nothing."""
    name = path.rsplit("/", 1)[-1]
    if name in NOT_A_DOWNLOAD or (mimetypes.guess_type(name)[0] or "").startswith("image/"):
        return
    user = token_user(request) or getattr(request, "user", None) or AnonymousUser()
    try:
        if cache.add(f"hub-download:{resource.pk}:{slots.client_id(request, user)}", 1,
                     timeout=settings.HUB_DOWNLOAD_WINDOW_S):
            type(resource).objects.filter(pk=resource.pk).update(downloads=F("downloads") + 1)
    except DatabaseError:
        log.warning("could not count a download of %s", resource.repo_id, exc_info=True)


def _cache_control(resource, *, pinned: bool) -> str:
    """A commit's bytes never change, so shared caches may keep a published file for a year; a
    draft's stay private to the browser (a shared cache would serve them to anyone), and a branch
    is revalidated each time."""
    if not pinned:
        return "no-cache"
    return "public, max-age=31536000, immutable" if resource.is_published else "private, max-age=3600"


@hub_view
def resolve(request, repo_type: str, namespace: str, name: str, revision: str, path: str):
    if request.method not in ("GET", "HEAD"):
        raise HubError(405, "Only GET and HEAD.", "MethodNotAllowed")
    resource = get_repo(TYPES[repo_type], namespace, name, request)
    commit = get_commit(resource, revision)
    found = entry(commit, path)
    if found is None:
        raise HubError(404, f"{path} does not exist at {revision}.", "EntryNotFound",
                       headers={"X-Repo-Commit": sha_of(commit)})
    blob = found.blob
    _count_download(request, resource, path)
    headers = {
        "X-Repo-Commit": commit.sha,
        "ETag": f'"{etag_of(blob)}"',
        "X-Linked-Size": str(blob.size),
        "Accept-Ranges": "bytes",
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(path.rsplit('/', 1)[-1])}",
        "Content-Security-Policy": FILE_CSP,
        "Cache-Control": _cache_control(resource, pinned=revision == commit.sha),
    }
    if is_lfs(blob):
        headers["X-Linked-Etag"] = f'"{blob.sha256}"'
    redirect = download_url(blob, filename=path)
    if redirect is not None:
        response = HttpResponseRedirect(redirect)
        for key, value in headers.items():
            response[key] = value
        return response
    content_type = served_type(path)
    if request.method == "HEAD":
        response = HttpResponse(b"", content_type=content_type)
        response["Content-Length"] = str(blob.size)
    else:
        span = _parse_range(request.headers.get("Range", ""), blob.size) if blob.size else None
        start, end = span or (0, blob.size - 1)
        response = StreamingHttpResponse(_chunks(blob, start, end, _download_slot(request)),
                                         content_type=content_type, status=206 if span else 200)
        response["Content-Length"] = str(end - start + 1)
        if span:
            response["Content-Range"] = f"bytes {start}-{end}/{blob.size}"
    for key, value in headers.items():
        response[key] = value
    return response
