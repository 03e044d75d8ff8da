"""A post's history: what each edit changed, and moderators hiding a version from it."""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core import textdiff

from . import permissions, services
from .models import Post, PostRevision


REVISIONS_PER_PAGE = 20


def revisions(request, pk: int):
    """Each edit as what it changed (a revision keeps the post as it was before its edit), newest
    first, then the post as it is now."""
    post = get_object_or_404(Post.objects.visible_to(request.user).select_related("thread"), pk=pk)
    page = Paginator(post.revisions.select_related("editor").order_by("-number"), REVISIONS_PER_PAGE).get_page(
        request.GET.get("page"))
    shown = list(page.object_list)  # newest first; each is compared with the version after it
    newer = post.revisions.filter(number__gt=shown[0].number).order_by("number").first() if shown else None
    moderator = permissions.can_moderate(request.user)
    edits = []
    for revision, after in zip(shown, [newer, *shown[:-1]]):
        if not moderator and (revision.is_hidden or (after is not None and after.is_hidden)):
            # An edit's diff shows the versions on both sides of it: a redacted one shows in neither.
            edits.append({"revision": revision, "redacted": True})
            continue
        body = after.body if after else post.body
        title = (after.title if after else post.thread.title) if post.position == 1 else ""
        edits.append({"revision": revision, "body": textdiff.inline_diff(revision.body, body),
                      "title": textdiff.inline_diff(revision.title, title) if revision.title and title and revision.title != title else None})
    return render(request, "community/revisions.html", {"post": post, "edits": edits, "page": page,
                                                        "can_redact": moderator})


@require_POST
def redact_revision(request, pk: int):
    """A moderator hides (or shows again) one kept version of a post: personal data or spam that
    an edit removed stays out of its history for everyone else."""
    if not permissions.can_moderate(request.user):
        raise PermissionDenied
    revision = get_object_or_404(PostRevision.objects.select_related("post"), pk=pk)
    services.set_revision_hidden(moderator=request.user, revision=revision, hidden=request.POST.get("hidden") != "0")
    return redirect("community:revisions", revision.post_id)
