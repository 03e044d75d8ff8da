"""URLs of a repository's files: downloads (the HF `resolve` route) and file pages, and the
resolver that points a card's relative links and images at them, as the Hugging Face Hub does."""
from __future__ import annotations

import posixpath
import re
from urllib.parse import quote, unquote, urlsplit

from django.urls import NoReverseMatch, reverse

from core.markdown import RelativeUrls

from ..models import Resource
from .reads import MAIN

CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def download_url(resource: Resource, revision: str, path: str) -> str:
    """The file's `resolve` URL, percent-encoded: a path may hold '#', '?', '%' or any script."""
    prefix = "/datasets" if resource.kind == Resource.Kind.DATASET else ""
    repo_id = f"{resource.owner}/{resource.name}"  # repo_id is set on save; a card renders before
    return f"{prefix}/{quote(repo_id)}/resolve/{quote(revision, safe='')}/{quote(path)}"


def files_url(resource: Resource, revision: str) -> str:
    return reverse("models_hub:files-at", args=[resource.kind, resource.owner, resource.name, revision])


def file_url(resource: Resource, revision: str, path: str) -> str:
    return reverse("models_hub:file", args=[resource.kind, resource.owner, resource.name, revision, path])


def relative_urls(resource: Resource, *, revision: str = MAIN, folder: str = "") -> RelativeUrls:
    """Resolves `fig.png` or `../docs/a.md` written in a file of `folder`: images load from the file
    itself, links open its page (keeping a #fragment). `..` stops at the repository's root."""

    def resolve(url: str, is_image: bool) -> str | None:
        parts = urlsplit(url)
        path = posixpath.normpath(posixpath.join("/", folder, unquote(parts.path))).lstrip("/")
        if CONTROL.search(path):
            return None  # no file has one ('a%0Ab'), and no route matches it
        fragment = f"#{parts.fragment}" if parts.fragment else ""  # already percent-encoded
        if not path:
            return None if is_image else files_url(resource, revision) + fragment
        if is_image:
            return download_url(resource, revision, path)
        try:
            return file_url(resource, revision, path) + fragment
        except NoReverseMatch:
            return None

    return resolve
