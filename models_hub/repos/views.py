"""Repository pages: the Files tab (folders, a file), History, a commit with its diffs, uploads."""
from __future__ import annotations

import hashlib
import os
import posixpath

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core import markdown
from core.highlighting import budget, highlight_or_plain

from ..front_matter import FRONT_MATTER
from ..models import Resource
from . import reads
from .archives import is_archive, members
from .commits import Changes, CommitConflict, QuotaExceeded, UploadAllowance, commit_files
from .links import download_url, relative_urls
from .models import REPO_KINDS
from .paths import clean_path
from .permissions import can_commit, can_set_runtime
from .runtimes import make_runnable
from .storage import TooLarge, spool
from .viewer import MAX_PAGED_ROWS, PAGE_ROWS, format_of, preview

TEXT_PREVIEW_BYTES = 512 * 1024
HISTORY_PAGE = 25


def _repo(request, kind: str, owner: str, name: str) -> Resource:
    if kind not in REPO_KINDS:
        raise Http404
    return get_object_or_404(Resource.objects.visible_to(request.user).select_related("runtime"),
                             kind=kind, owner=owner, name=name)


def _commit(resource: Resource, revision: str | None):
    try:
        return reads.resolve(resource, revision)
    except reads.RevisionNotFound:
        raise Http404(_("No revision %(rev)s.") % {"rev": revision})


def _context(request, resource: Resource, tab: str, **extra) -> dict:
    return {"resource": resource, "tab": tab, "can_commit": can_commit(request.user, resource),
            "can_set_runtime": can_set_runtime(request.user) and resource.kind == Resource.Kind.MODEL, **extra}


def files(request, kind: str, owner: str, name: str, rev: str = reads.MAIN, path: str = ""):
    """A folder's listing, or a file's page when `path` names a file."""
    resource = _repo(request, kind, owner, name)
    commit = _commit(resource, rev)
    path = path.strip("/")
    found = reads.entry(commit, path) if path else None
    if found is not None:
        return _file(request, resource, commit, rev, found)
    nodes = reads.folder(commit, path)
    if path and not nodes:
        raise Http404(_("No file or folder %(path)s.") % {"path": path})
    crumbs = [(part, "/".join(path.split("/")[: i + 1])) for i, part in enumerate(path.split("/"))] if path else []
    return render(request, "models_hub/repo/files.html", _context(
        request, resource, "files", commit=commit, rev=rev, path=path, nodes=nodes, crumbs=crumbs,
        total=sum(n.size for n in nodes),
        gguf_files=[n.path for n in nodes if not n.is_dir and n.path.lower().endswith(".gguf")]))


@login_required
@require_http_methods(["POST"])
def runnable(request, kind: str, owner: str, name: str):
    """A moderator makes the model runnable from its files at a revision."""
    resource = _repo(request, kind, owner, name)
    try:
        make_runnable(user=request.user, resource=resource, revision=request.POST.get("revision", ""),
                      gguf_file=request.POST.get("gguf_file", ""))
    except ValidationError as exc:
        return _refused(request, resource, exc.messages, status=400)
    messages.success(request, _("The model now runs from these files."))
    return redirect(resource)


def _file(request, resource, commit, rev, found):
    blob = found.blob
    text = reads.readable_text(blob, TEXT_PREVIEW_BYTES)
    html = front_matter = ""
    cut = False
    if text is not None:
        if found.path.lower().endswith((".md", ".markdown")):
            match = FRONT_MATTER.match(text)
            if match:  # shown apart, as YAML, as the Hugging Face Hub shows a card's metadata
                front_matter = highlight_or_plain(match.group(1), language="yaml", cssclass="highlight")
                text = text[match.end():]
            cut = len(text) > settings.MARKDOWN_MAX_LENGTH
            html = _markdown_html(resource, rev, found.path, blob, text[:settings.MARKDOWN_MAX_LENGTH])
        else:
            html = highlight_or_plain(text, filename=posixpath.basename(found.path), cssclass="highlight",
                                      linenos="table")
    return render(request, "models_hub/repo/file.html", _context(
        request, resource, "files", commit=commit, rev=rev, entry=found, blob=blob, html=html,
        front_matter=front_matter, cut=cut, shown_chars=settings.MARKDOWN_MAX_LENGTH,
        is_markdown=found.path.lower().endswith((".md", ".markdown")) and text is not None,
        download=download_url(resource, commit.sha, found.path), lfs=reads.is_lfs(blob)))


def _markdown_html(resource: Resource, rev: str, path: str, blob, text: str) -> str:
    """A Markdown file's HTML, cached: rendering a long one costs seconds, and the same text at the
    same place (its relative links name the repository, the revision and the folder) renders the
    same. Posts and cards are rendered once, when saved; a file is rendered when read."""
    place = hashlib.sha256(f"{resource.pk}\0{resource.kind}\0{resource.repo_id}\0{rev}\0{path}\0{len(text)}"
                           .encode()).hexdigest()
    key = f"repo-markdown:{blob.sha256}:{place}"
    html = cache.get(key)
    if html is None:
        html = markdown.render(text, mentions=False, relative_urls=relative_urls(
            resource, revision=rev, folder=posixpath.dirname(path))).html
        cache.set(key, html, timeout=settings.HIGHLIGHT_CACHE_S)
    return html


def dataset_rows(request, kind: str, owner: str, name: str):
    """A data file's rows at the head, a page at a time (`?file=<path>&page=N`): the dataset
    viewer past the first rows the card shows."""
    resource = _repo(request, kind, owner, name)
    data_files = [e for e in reads.entries(reads.head(resource)) if format_of(e.path)]
    if not data_files:  # the tab is there for every dataset: it says what it would show
        return render(request, "models_hub/repo/viewer_page.html", _context(request, resource, "viewer", files=[]))
    shown = next((e for e in data_files if e.path == request.GET.get("file")), None)
    if shown is None and request.GET.get("file"):
        raise Http404(_("No data file %(path)s.") % {"path": request.GET["file"]})
    shown = shown or data_files[0]
    first = preview(shown.path, shown.blob, limit=1)  # its row count (cached), to number the pages
    rows_known = first.total_rows if first.total_rows is not None else MAX_PAGED_ROWS
    page = Paginator(range(min(rows_known, MAX_PAGED_ROWS)), PAGE_ROWS).get_page(request.GET.get("page"))
    rows = preview(shown.path, shown.blob, offset=page.start_index() - 1 if page.object_list else 0, limit=PAGE_ROWS)
    return render(request, "models_hub/repo/viewer_page.html", _context(
        request, resource, "viewer", files=[e.path for e in data_files], shown=rows, page=page,
        capped=first.total_rows is None or first.total_rows > MAX_PAGED_ROWS))


def history(request, kind: str, owner: str, name: str):
    resource = _repo(request, kind, owner, name)
    page = Paginator(reads.history(resource), HISTORY_PAGE).get_page(request.GET.get("page"))
    return render(request, "models_hub/repo/history.html", _context(request, resource, "history", page=page))


def commit_detail(request, kind: str, owner: str, name: str, sha: str):
    resource = _repo(request, kind, owner, name)
    commit = _commit(resource, sha)
    if commit is None:
        raise Http404
    changes = reads.changes(commit)
    with budget(settings.HIGHLIGHT_TIMEOUT_S):  # for the page's diffs together
        for change in changes:
            change.html = highlight_or_plain(change.diff, language="diff", cssclass="highlight") if change.diff else ""
    return render(request, "models_hub/repo/commit.html", _context(
        request, resource, "history", commit=commit, changes=changes))


@login_required
@require_http_methods(["POST"])
def delete_file(request, kind: str, owner: str, name: str):
    """A commit removing the file whose page the member was on (its Delete button); refused when
    `main` moved since that page was shown, so a file changed meanwhile is not lost unseen."""
    resource = _repo(request, kind, owner, name)
    if not can_commit(request.user, resource):
        raise PermissionDenied
    path = request.POST.get("path", "")
    try:
        done = commit_files(resource=resource, user=request.user, changes=Changes(deletions=[path]),
                            title=_("Delete %(path)s") % {"path": path}, parent_sha=request.POST.get("parent") or None)
    except ValidationError as exc:
        return _refused(request, resource, exc.messages, status=400)
    except CommitConflict:
        return _refused(request, resource, [_("Someone committed meanwhile: look at the file again before "
                                              "deleting it.")], status=409)
    messages.success(request, _("Deleted %(path)s.") % {"path": path})
    return redirect(f"{resource.get_absolute_url()}commit/{done.sha}/")


def _refused(request, resource: Resource, reasons: list[str], *, status: int):
    """The Files tab with why a change was refused."""
    for reason in reasons:
        messages.error(request, reason)
    response = files(request, resource.kind, resource.owner, resource.name)
    response.status_code = status
    return response


def _uploaded_changes(request, resource: Resource) -> Changes:
    """The form's files (a folder keeps its relative paths), archives extracted when asked."""
    uploads = request.FILES.getlist("files")
    paths = request.POST.getlist("paths")
    folder = request.POST.get("folder", "").strip().strip("/")
    extract = request.POST.get("extract") == "1"
    changes = Changes()
    allowance = UploadAllowance(resource)

    def add(path: str, size: int, stream) -> None:
        allowance.admit(path, size)
        changes.additions.append((path, allowance.store(spool(stream, size=size, label=path))))

    for i, upload in enumerate(uploads):
        relative = paths[i] if i < len(paths) and paths[i] else upload.name
        target = clean_path(f"{folder}/{relative}" if folder else relative)
        if extract and is_archive(upload.name):
            base = os.path.dirname(target)
            for member, size, stream in members(upload.name, upload):
                add(clean_path(f"{base}/{member}" if base else member), size, stream)
            continue
        add(target, upload.size, upload)
    if not changes.additions:
        raise ValidationError({"files": [_("Choose at least one file.")]})
    return changes


@login_required
@require_http_methods(["GET", "POST"])
def upload(request, kind: str, owner: str, name: str):
    resource = _repo(request, kind, owner, name)
    if not can_commit(request.user, resource):
        raise PermissionDenied
    errors: dict = {}
    if request.method == "POST":
        status = 400
        try:
            done = commit_files(resource=resource, user=request.user, changes=_uploaded_changes(request, resource),
                                title=request.POST.get("title", ""), message=request.POST.get("message", ""))
        except (TooLarge, QuotaExceeded) as exc:
            errors, status = exc.message_dict, 413
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "message_dict") else {"files": exc.messages}
        except CommitConflict:
            errors, status = {"files": [_("Someone committed meanwhile; try again.")]}, 409
        else:
            target = f"{resource.get_absolute_url()}commit/{done.sha}/"
            if request.headers.get("Accept", "").startswith("application/json"):
                return JsonResponse({"commit": done.sha, "url": target})
            return redirect(target)
        if request.headers.get("Accept", "").startswith("application/json"):
            return JsonResponse({"errors": errors}, status=status)
        response = render(request, "models_hub/repo/upload.html", _context(request, resource, "files", errors=errors))
        response.status_code = status
        return response
    return render(request, "models_hub/repo/upload.html", _context(request, resource, "files", errors=errors))
