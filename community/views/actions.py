"""Buttons on a thread page. With HTMX they swap a fragment; without, they redirect back."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import services
from ..forms import FlagForm
from ..models import Category, Post, Thread


def _back(request, obj) -> HttpResponse:
    return redirect(obj.get_absolute_url() if hasattr(obj, "get_absolute_url") else "/")


@login_required
@require_POST
def vote(request, pk: int):
    post = get_object_or_404(Post.objects.visible_to(request.user), pk=pk)
    try:
        value = int(request.POST.get("value", "0"))
        post = services.vote(user=request.user, post=post, value=value)
    except (ValueError, ValidationError):
        return HttpResponse(_("Invalid vote."), status=400)
    except PermissionDenied as exc:
        return HttpResponse(str(exc), status=403)
    if request.headers.get("HX-Request"):
        return render(request, "community/includes/vote.html", {"post": post})
    return _back(request, post)


@login_required
@require_POST
def accept(request, pk: int):
    thread = get_object_or_404(Thread.objects.visible_to(request.user), pk=pk)
    post = None
    if request.POST.get("post"):
        post = get_object_or_404(Post, pk=request.POST["post"], thread=thread)
    try:
        services.accept_answer(user=request.user, thread=thread, post=post)
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    return _back(request, thread)


def _toggle(request, pk: int, *, field: str, template: str, context_key: str, apply) -> HttpResponse:
    """A per-member on/off switch on a thread (watch, bookmark): set it, then show the button."""
    thread = get_object_or_404(Thread.objects.visible_to(request.user), pk=pk)
    on = request.POST.get(field) == "1"
    apply(user=request.user, thread=thread, on=on)
    if request.headers.get("HX-Request"):
        return render(request, template, {"thread": thread, context_key: on})
    return _back(request, thread)


@login_required
@require_POST
def watch(request, pk: int):
    return _toggle(request, pk, field="watch", template="community/includes/watch.html",
                   context_key="is_watching",
                   apply=lambda user, thread, on: services.set_watch(user=user, thread=thread, watching=on))


@login_required
@require_POST
def bookmark(request, pk: int):
    return _toggle(request, pk, field="bookmark", template="community/includes/bookmark.html",
                   context_key="is_bookmarked",
                   apply=lambda user, thread, on: services.set_bookmark(user=user, thread=thread, marked=on))


@login_required
@require_POST
def flag(request, pk: int):
    post = get_object_or_404(Post.objects.visible_to(request.user), pk=pk)
    form = FlagForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors.get("reason", [_("Say why.")]))
        services.flag_post(user=request.user, post=post, reason=form.cleaned_data["reason"])
        messages.success(request, _("Thanks — moderators will review this post."))
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    return _back(request, post)


@staff_member_required
@require_POST
def moderate(request, pk: int):
    thread = get_object_or_404(Thread, pk=pk)
    category = Category.objects.filter(slug=request.POST.get("category")).first()
    try:
        services.moderate_thread(moderator=request.user, thread=thread,
                                 action=request.POST.get("action", ""), category=category)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return _back(request, thread)


@staff_member_required
@require_POST
def hide_post(request, pk: int):
    post = get_object_or_404(Post, pk=pk)
    services.set_post_hidden(post=post, hidden=request.POST.get("hide") == "1")
    return _back(request, post)


@staff_member_required
def review_queue(request):
    if request.method == "POST":
        post = get_object_or_404(Post, pk=request.POST.get("post"))
        services.review_post(moderator=request.user, post=post,
                             keep_hidden=request.POST.get("decision") == "hide")
        return redirect("community:review")
    flagged = (Post.objects.filter(needs_review=True).select_related("author", "thread")
               .prefetch_related("flags__user").order_by("-flag_count", "-id"))
    page = Paginator(flagged, 30).get_page(request.GET.get("page"))
    return render(request, "community/review.html", {"page": page})
