"""A member's profile and their activity: every thread and reply they wrote, a page at a time."""
from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from . import permissions, profiles
from .forms import SuspensionForm
from .models import Mute, Post, Thread, User

PROFILE_ROWS = 20  # of each kind on the profile itself; the activity pages list the rest
ACTIVITY_PAGE_SIZE = 30


def _person(username: str) -> User:
    # Deactivated accounts (and the site's own) keep their page: their posts link to it.
    return get_object_or_404(User.objects.with_counts(), username__lower_exact=username)


def _threads(request, person: User):
    return Thread.objects.visible_to(request.user).filter(author=person).for_list().latest()


def _replies(request, person: User):
    return (Post.objects.visible_to(request.user).filter(author=person, position__gt=1)
            .select_related("thread").order_by("-created_at", "-id"))


def profile(request, username: str):
    person = _person(username)
    can_mute = permissions.can_mute(request.user, person)
    # One row more than shown says whether there are more, as the viewer may see them (the
    # public counts leave out what is hidden, which the owner and moderators still see).
    threads = list(_threads(request, person)[:PROFILE_ROWS + 1])
    posts = list(_replies(request, person)[:PROFILE_ROWS + 1])
    return render(request, "community/profile.html", {
        "person": person, "threads": threads[:PROFILE_ROWS], "posts": posts[:PROFILE_ROWS],
        "more_threads": len(threads) > PROFILE_ROWS, "more_posts": len(posts) > PROFILE_ROWS,
        "suspension_form": SuspensionForm() if permissions.can_suspend(request.user, person) else None,
        "can_mute": can_mute,
        "is_muted": can_mute and Mute.objects.filter(user=request.user, muted=person).exists(),
        "sections": profiles.sections_for(person=person, viewer=request.user)})


def activity(request, username: str, kind: str):
    """All of a member's threads (kind "threads") or replies ("replies"), newest first."""
    person = _person(username)
    rows = _threads(request, person) if kind == "threads" else _replies(request, person)
    page = Paginator(rows, ACTIVITY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "community/activity.html", {"person": person, "kind": kind, "page": page})
