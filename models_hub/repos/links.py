"""URLs of a repository's files: downloads (the HF `resolve` route) and file pages, and the
resolver that points a card's relative links and images at them, as the Hugging Face Hub does."""
from __future__ import annotations

import posixpath
from urllib.parse import quote, unquote, urlsplit

from django.urls import reverse

from core.markdown import RelativeUrls

from ..models import Resource
from .reads import MAIN


def download_url(resource: Resource, revision: str, path: str) -> str:
    """The file's `resolve` URL, percent-encoded: a path may hold '#', '?', '%' or any script."""
    prefix = "/datasets" if resource.kind == Resource.Kind.DATASET else ""
    return f"{prefix}/{quote(resource.repo_id)}/resolve/{quote(revision, safe='')}/{quote(path)}"


def file_url(resource: Resource, revision: str, path: str) -> str:
    return reverse("models_hub:file", args=[resource.kind, resource.owner, resource.name, revision, path])


def relative_urls(resource: Resource, *, revision: str = MAIN, folder: str = "") -> RelativeUrls:
    """Resolves `fig.png` or `../docs/a.md` written in a file of `folder`: images load from the file
    itself, links open its page (keeping a #fragment). `..` stops at the repository's root."""

    def resolve(url: str, is_image: bool) -> str | None:
        parts = urlsplit(url)
        path = posixpath.normpath(posixpath.join("/", folder, unquote(parts.path))).lstrip("/")
        if not path or "\x00" in path:
            return None
        if is_image:
            return download_url(resource, revision, path)
        return file_url(resource, revision, path) + (f"#{quote(parts.fragment)}" if parts.fragment else "")

    return resolve
