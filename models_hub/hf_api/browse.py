"""The Hugging Face Hub's page addresses, sent on to this site's pages: what its client prints
(`create_repo` returns /{ns}/{name}, a commit /{ns}/{name}/commit/{sha}) and what people paste
from huggingface.co, with /datasets/ in front for a dataset. A repository a viewer may not see
is a 404, as on its own page."""
from __future__ import annotations

from functools import wraps
from urllib.parse import unquote

from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import redirect
from django.urls import Resolver404, resolve
from django.views.decorators.http import require_safe

from ..models import Resource
from ..repos.reads import MAIN, is_main
from .common import TYPES

def _with_slash(request) -> HttpResponsePermanentRedirect | None:
    """What Django's APPEND_SLASH would answer, which these routes would otherwise take from the
    site's own two-part paths: the page with its slash, when that is one of the site's."""
    try:
        found = resolve(request.path_info + "/")
    except Resolver404:
        return None
    if (found.url_name or "").startswith("hf-page-"):
        return None
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect(request.path + "/" + (f"?{query}" if query else ""))


def _resource(request, repo_type: str, namespace: str, name: str) -> Resource:
    resource = Resource.objects.visible_to(request.user).filter(
        kind=TYPES[repo_type], owner=namespace, name=name).first()
    if resource is None:
        raise Http404
    return resource


def _revision(revision: str) -> str:
    """main by any of its names; another branch (refs/heads/dev) is none of this site's."""
    if is_main(revision):
        return MAIN
    if "/" in unquote(revision):  # refs/heads/dev, or a slash quoted twice: no revision of this site's
        raise Http404
    return revision


def site_first(view):
    """The site's own page (with its slash) before any repository of the same address."""
    @wraps(view)
    def answer(request, *args, **kwargs):
        return _with_slash(request) or view(request, *args, **kwargs)
    return answer


@require_safe
@site_first
def repo_page(request, namespace: str, name: str, repo_type: str = "models"):
    """/{ns}/{name}: the resource's page."""
    return redirect(_resource(request, repo_type, namespace, name))


@require_safe
@site_first
def tree_page(request, namespace: str, name: str, revision: str, path: str = "", repo_type: str = "models"):
    """/tree/{rev}[/{folder}] and /blob/{rev}/{file}: the Files tab at that revision."""
    resource = _resource(request, repo_type, namespace, name)
    args = (resource.kind, resource.owner, resource.name, _revision(revision))
    path = path.strip("/")
    return redirect("models_hub:file", *args, path) if path else redirect("models_hub:files-at", *args)


@require_safe
@site_first
def commits_page(request, namespace: str, name: str, revision: str = MAIN, repo_type: str = "models"):
    resource = _resource(request, repo_type, namespace, name)
    return redirect("models_hub:history", resource.kind, resource.owner, resource.name)


@require_safe
@site_first
def commit_page(request, namespace: str, name: str, sha: str, repo_type: str = "models"):
    resource = _resource(request, repo_type, namespace, name)
    return redirect("models_hub:commit", resource.kind, resource.owner, resource.name, sha)


@require_safe
@site_first
def discussions_page(request, namespace: str, name: str, repo_type: str = "models"):
    """The resource's forum thread, or its page (where a member opens one) while it has none."""
    resource = _resource(request, repo_type, namespace, name)
    thread = resource.thread if resource.thread_id else None
    return redirect(thread if thread is not None and not thread.is_hidden else resource)
