"""The Hugging Face Hub's page addresses, sent on to this site's pages: what its client prints
(`create_repo` returns /{ns}/{name}, a commit /{ns}/{name}/commit/{sha}) and what people paste
from huggingface.co, with /datasets/ in front for a dataset. A repository a viewer may not see
is a 404, as on its own page."""
from __future__ import annotations

from urllib.parse import unquote

from django.http import Http404, HttpResponsePermanentRedirect
from django.shortcuts import redirect
from django.urls import Resolver404, resolve
from django.views.decorators.http import require_safe

from ..models import Resource
from ..repos.reads import MAIN
from .common import TYPES

MAIN_NAMES = {"refs/heads/main"}  # main by its full name


def _resource(request, repo_type: str, namespace: str, name: str) -> Resource:
    resource = Resource.objects.visible_to(request.user).filter(
        kind=TYPES[repo_type], owner=namespace, name=name).first()
    if resource is None:
        raise Http404
    return resource


def _revision(revision: str) -> str:
    return MAIN if unquote(revision) in MAIN_NAMES else revision


@require_safe
def repo_page(request, namespace: str, name: str, repo_type: str = "models"):
    """/{ns}/{name}: the resource's page. Also any two-part path of the site that lacks its
    trailing slash (/forum/tags), which this route would otherwise swallow: it gets the slash."""
    try:
        return redirect(_resource(request, repo_type, namespace, name))
    except Http404:
        with_slash = request.path + "/"
        try:
            found = resolve(with_slash)
        except Resolver404:
            raise Http404 from None
        if (found.url_name or "").startswith("hf-page-"):  # this route again: no such repository
            raise Http404
        query = request.META.get("QUERY_STRING", "")
        return HttpResponsePermanentRedirect(with_slash + (f"?{query}" if query else ""))


@require_safe
def tree_page(request, namespace: str, name: str, revision: str, path: str = "", repo_type: str = "models"):
    """/tree/{rev}[/{folder}] and /blob/{rev}/{file}: the Files tab at that revision."""
    resource = _resource(request, repo_type, namespace, name)
    args = (resource.kind, resource.owner, resource.name, _revision(revision))
    path = path.strip("/")
    return redirect("models_hub:file", *args, path) if path else redirect("models_hub:files-at", *args)


@require_safe
def commits_page(request, namespace: str, name: str, revision: str = MAIN, repo_type: str = "models"):
    resource = _resource(request, repo_type, namespace, name)
    return redirect("models_hub:history", resource.kind, resource.owner, resource.name)


@require_safe
def commit_page(request, namespace: str, name: str, sha: str, repo_type: str = "models"):
    resource = _resource(request, repo_type, namespace, name)
    return redirect("models_hub:commit", resource.kind, resource.owner, resource.name, sha)


@require_safe
def discussions_page(request, namespace: str, name: str, repo_type: str = "models"):
    """The resource's forum thread, or its page (where a member opens one) while it has none."""
    resource = _resource(request, repo_type, namespace, name)
    thread = resource.thread if resource.thread_id else None
    return redirect(thread if thread is not None and not thread.is_hidden else resource)
