"""Forum pages: home, lists, a thread with its replies, new thread, search, notifications."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .. import search, services
from ..charts import daily_counts, sparkline
from ..exceptions import RateLimited
from ..forms import ReplyForm, ThreadForm
from ..models import Category, Post, Tag, Thread
from ..social_models import Bookmark, Watch

TABS = {"latest": "latest", "top": "top", "unanswered": "unanswered", "solved": "solved"}
POSTS_PER_PAGE = 20


def home(request):
    from models_hub.models import Resource

    threads = Thread.objects.visible_to(request.user).for_list().latest()[:8]
    resources = Resource.objects.for_list().ordered("-likes")[:6]
    runnable = Resource.objects.runnable().order_by("name")[:4]
    return render(request, "home.html", {"threads": threads, "resources": resources,
                                         "runnable": runnable})


def _thread_list(request, threads, template: str, context: dict):
    tab = request.GET.get("tab", "latest")
    threads = getattr(threads.for_list(), TABS.get(tab, "latest"))()
    if tab == "solved":
        threads = threads.latest()
    page = Paginator(threads, 30).get_page(request.GET.get("page"))
    return render(request, template, {**context, "page": page, "tab": tab,
                                      "tabs": list(TABS)})


def forum_index(request):
    threads = Thread.objects.visible_to(request.user)
    return _thread_list(request, threads, "community/forum_index.html",
                        {"categories": Category.objects.all()})


def category(request, slug: str):
    cat = get_object_or_404(Category, slug=slug)
    threads = Thread.objects.visible_to(request.user).filter(category=cat)
    return _thread_list(request, threads, "community/category.html", {"category": cat})


def tag(request, name: str):
    the_tag = get_object_or_404(Tag, name=name)
    threads = Thread.objects.visible_to(request.user).filter(tags=the_tag)
    return _thread_list(request, threads, "community/tag.html", {"tag": the_tag})


def _reply_context(request, thread: Thread, form: ReplyForm | None = None) -> dict:
    return {"reply_form": form or ReplyForm(), "can_reply": request.user.is_authenticated and (
        not thread.is_locked or request.user.is_staff)}


@require_http_methods(["GET", "HEAD"])
def thread_detail(request, pk: int, slug: str = ""):
    thread = get_object_or_404(Thread.objects.visible_to(request.user).for_list(), pk=pk)
    posts = thread.posts.visible_to(request.user).for_display(request.user)
    opening = posts.filter(position=1).first()
    if opening is None:
        raise Http404
    replies = posts.filter(position__gt=1)
    accepted = None
    if thread.accepted_post_id:
        accepted = posts.filter(pk=thread.accepted_post_id).first()
        replies = replies.exclude(pk=thread.accepted_post_id)
    page_number = request.GET.get("page")
    if request.GET.get("post") and not page_number:
        target = replies.filter(pk=request.GET["post"]).values_list("position", flat=True).first()
        if target:
            page_number = replies.filter(position__lt=target).count() // POSTS_PER_PAGE + 1
    page = Paginator(replies.order_by("position"), POSTS_PER_PAGE).get_page(page_number)
    user = request.user
    activity = daily_counts(thread.posts.all(), "created_at")
    context = {
        "thread": thread, "opening": opening, "accepted": accepted, "page": page,
        "activity_chart": sparkline(activity, label=_("%(n)d posts in the last 30 days") % {"n": sum(activity)}),
        "is_watching": user.is_authenticated and Watch.objects.filter(user=user, thread=thread).exists(),
        "is_bookmarked": user.is_authenticated and Bookmark.objects.filter(user=user, thread=thread).exists(),
        "can_edit_thread": services.can_edit(user, thread),
        "can_accept": thread.kind == "question" and user.is_authenticated and (
            user.is_staff or thread.author_id == user.pk),
        "categories": Category.objects.all() if user.is_staff else [],
        **_reply_context(request, thread),
    }
    return render(request, "community/thread.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def new_thread(request):
    initial = {"category": Category.objects.filter(slug=request.GET.get("category")).first()}
    form = ThreadForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            thread = services.create_thread(author=request.user, category=data["category"],
                                            title=data["title"], body=data["body"],
                                            tags=data["tags"], kind=data["kind"])
        except RateLimited as exc:
            form.add_error(None, _("You are posting too fast. Please wait %(s)d seconds and try again.")
                           % {"s": exc.retry_after})
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            return redirect(thread)
    return render(request, "community/new_thread.html", {"form": form})


@login_required
@require_http_methods(["POST"])
def reply(request, pk: int):
    thread = get_object_or_404(Thread.objects.visible_to(request.user), pk=pk)
    form = ReplyForm(request.POST)
    if form.is_valid():
        reply_to = None
        if form.cleaned_data.get("reply_to"):
            reply_to = Post.objects.filter(pk=form.cleaned_data["reply_to"], thread=thread).first()
        try:
            post = services.create_post(author=request.user, thread=thread,
                                        body=form.cleaned_data["body"], reply_to=reply_to)
        except RateLimited as exc:
            form.add_error("body", _("You are posting too fast. Please wait %(s)d seconds and try again.")
                           % {"s": exc.retry_after})
        except PermissionDenied as exc:
            form.add_error("body", str(exc))
        except ValidationError as exc:
            form.add_error("body", " ".join(exc.messages))
        else:
            return redirect(post.get_absolute_url())
    messages.error(request, _("Your reply was not posted: see the message below it."))
    context = {"thread": thread, **_reply_context(request, thread, form)}
    return render(request, "community/reply_failed.html", context, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def edit_post(request, pk: int):
    post = get_object_or_404(Post.objects.select_related("thread"), pk=pk)
    if not services.can_edit(request.user, post):
        raise PermissionDenied
    form = ReplyForm(request.POST or None, initial={"body": post.body})
    if request.method == "POST" and form.is_valid():
        try:
            services.edit_post(editor=request.user, post=post, body=form.cleaned_data["body"])
            if post.position == 1 and request.POST.get("title"):
                services.update_thread(editor=request.user, thread=post.thread,
                                       title=request.POST["title"])
        except ValidationError as exc:
            form.add_error("body", " ".join(exc.messages))
        else:
            return redirect(post.get_absolute_url())
    return render(request, "community/edit_post.html", {"form": form, "post": post})


def revisions(request, pk: int):
    post = get_object_or_404(Post.objects.visible_to(request.user).select_related("thread"), pk=pk)
    return render(request, "community/revisions.html",
                  {"post": post, "revisions": post.revisions.select_related("editor")})


def search_page(request):
    query = request.GET.get("q", "").strip()
    kind = request.GET.get("type") or None
    hits, total = [], 0
    if query:
        total, hits = search.search(query, kinds=[kind] if kind in ("thread", "post", "resource") else None,
                                    limit=30)
    return render(request, "community/search.html",
                  {"query": query, "hits": hits, "total": total, "type": kind or ""})


@login_required
def notifications(request):
    items = request.user.notifications.select_related("actor", "thread")
    page = Paginator(items, 30).get_page(request.GET.get("page"))
    response = render(request, "community/notifications.html", {"page": page})
    if request.method == "GET":
        services.mark_notifications_read(user=request.user,
                                         ids=[n.pk for n in page.object_list if not n.read])
    return response


@require_http_methods(["POST"])
def preview(request):
    """Markdown preview, rendered and sanitised exactly as a saved post would be."""
    from django.http import HttpResponse

    from .. import markdown

    body = request.POST.get("body", "")[: 64_000]
    return HttpResponse(markdown.render(body).html if body.strip() else "")
