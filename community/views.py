"""Forum pages and buttons, and members' profiles (sign-up and settings: account_views).

Buttons (vote, watch, bookmark) swap a fragment under HTMX and redirect back without it.
"""
from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from core import search
from core.charts import daily_counts, sparkline
from core.pagination import CountedPaginator
from core.exceptions import RateLimited, posting_too_fast, wait_in_words
from core.models import Tag
from core.permissions import moderator_required
from core.slots import client_id

from . import permissions, reading, services
from .context_processors import draft_sent
from .forms import (EditPostForm, FlagForm, PostIdForm, ReplyForm, ReviewForm, SearchForm, ThreadForm, add_errors,
                    parse_id)
from .models import Category, Flag, Mute, Notification, Post, TagWatch, Thread
from .querysets import TOP_PERIODS
from .serializers import DismissSerializer

TABS = {"latest": "latest", "top": "top", "unanswered": "unanswered", "solved": "solved"}
PERIOD_NAMES = [("all", gettext_lazy("All time")), ("yearly", gettext_lazy("Year")),
                ("quarterly", gettext_lazy("Quarter")), ("monthly", gettext_lazy("Month")),
                ("weekly", gettext_lazy("Week")), ("daily", gettext_lazy("Today"))]
POSTS_PER_PAGE = 20
TAGS_PER_PAGE = 120


def _thread_list(request, threads, template: str, context: dict):
    """A list's tabs; members also get New and Unread, with how many threads each holds."""
    user = request.user
    tab = request.GET.get("tab", "latest")
    unread_threads = threads.unread_by(user).count() if user.is_authenticated else None
    new_threads = threads.new_for(user).count() if user.is_authenticated else None
    if tab == "unread" and unread_threads is not None:
        listed = threads.for_list().unread_by(user).latest()
    elif tab == "new" and new_threads is not None:
        listed = threads.for_list().with_new_replies(user).new_for(user).latest()
    elif tab == "top":
        period = request.GET.get("period") if request.GET.get("period") in TOP_PERIODS else "all"
        listed = threads.for_list().with_new_replies(user).top(period)
    else:
        tab = tab if tab in TABS else "latest"
        listed = getattr(threads.for_list().with_new_replies(user), TABS[tab])()
        if tab == "solved":
            listed = listed.latest()
    page = Paginator(listed, 30).get_page(request.GET.get("page"))
    return render(request, template, {**context, "page": page, "tab": tab, "unread_threads": unread_threads,
                                      "new_threads": new_threads, "new_thread_days": settings.FORUM_NEW_THREAD_DAYS,
                                      "period": period if tab == "top" else None, "periods": PERIOD_NAMES})


@login_required
@require_POST
def dismiss(request):
    """Dismiss a list's New or Unread threads (in a category, when its page asked)."""
    data = DismissSerializer(data=request.POST)
    if not data.is_valid():
        return HttpResponse(" ".join(str(e) for errors in data.errors.values() for e in errors), status=400)
    tab, category = data.validated_data["tab"], data.validated_data.get("category")
    reading.dismiss(user=request.user, tab=tab, category=category)
    return redirect(f"{category.get_absolute_url() if category else reverse('community:index')}?tab={tab}")


def forum_index(request):
    threads = Thread.objects.visible_to(request.user)
    return _thread_list(request, threads, "community/forum_index.html",
                        {"categories": Category.objects.all(), "feed_url": reverse("community:feed-latest")})


def category(request, slug: str):
    cat = get_object_or_404(Category, slug=slug)
    threads = Thread.objects.visible_to(request.user).filter(category=cat)
    return _thread_list(request, threads, "community/category.html", {
        "category": cat, "feed_url": reverse("community:feed-category", args=[cat.slug]),
        "watching_new": request.user.is_authenticated and cat.watches.filter(user=request.user).exists()})


def tags(request):
    """Every tag on a thread the reader may see, with how many (Discourse's /tags)."""
    by_name = request.GET.get("sort") == "name"
    rows = Thread.objects.visible_to(request.user).tag_counts(by_name=by_name)
    page = Paginator(rows, TAGS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "community/tags.html", {"page": page, "by_name": by_name})


def tag(request, name: str):
    the_tag = get_object_or_404(Tag, name=name)
    threads = Thread.objects.visible_to(request.user).filter(tags=the_tag)
    return _thread_list(request, threads, "community/tag.html", {
        "tag": the_tag, "feed_url": reverse("community:feed-tag", args=[the_tag.name]),
        "watching_new": request.user.is_authenticated and TagWatch.objects.filter(user=request.user, tag=the_tag).exists()})


def _reply_context(request, thread: Thread, form: ReplyForm | None = None) -> dict:
    """The reply box, answering the post `?reply_to=` names (a post's Reply link without script)."""
    reply_id = parse_id(form["reply_to"].value() if form else request.GET.get("reply_to"))
    replying_to = (thread.posts.visible_to(request.user).select_related("author").filter(pk=reply_id).first()
                   if reply_id else None)
    form = form or ReplyForm(initial={"reply_to": replying_to.pk if replying_to else None})
    return {"reply_form": form, "replying_to": replying_to, "can_reply": permissions.can_reply(request.user, thread)}


@require_http_methods(["GET", "HEAD"])
def thread_detail(request, pk: int, slug: str = ""):
    user = request.user
    thread = get_object_or_404(Thread.objects.visible_to(user).for_list().with_viewer_state(user)
                               .with_read_position(user), pk=pk)
    visible = thread.posts.visible_to(user)
    # The opening post and the accepted answer come in one query; the replies' count and a
    # linked post's position come from the plain rows, without the display's joins.
    leading = Q(position=1) | Q(pk=thread.accepted_post_id) if thread.accepted_post_id else Q(position=1)
    shown = {post.pk: post for post in visible.for_display(user).filter(leading)}
    opening = next((post for post in shown.values() if post.position == 1), None)
    if opening is None:
        raise Http404
    accepted = shown.get(thread.accepted_post_id)
    replies = visible.filter(position__gt=1)
    if thread.accepted_post_id:
        replies = replies.exclude(pk=thread.accepted_post_id)
    page_number = request.GET.get("page")
    target_id = parse_id(request.GET.get("post"))  # a link to one post; anything else is ignored
    if request.GET.get("post") == "last" and not page_number:  # the lists' "latest" links
        page_number = -(-replies.count() // POSTS_PER_PAGE) or 1
    elif target_id and not page_number:
        target = replies.filter(pk=target_id).values_list("position", flat=True).first()
        if target:
            page_number = replies.filter(position__lt=target).count() // POSTS_PER_PAGE + 1
    page = CountedPaginator(replies.for_display(user).order_by("position"), POSTS_PER_PAGE,
                            count_from=replies).get_page(page_number)
    if request.method == "GET" and page.number == 1:  # a reader arriving, not one paging on
        reading.count_view(thread=thread, viewer=client_id(request, user),
                           user_agent=request.headers.get("User-Agent", ""))
    if user.is_authenticated and request.method == "GET":  # not a HEAD or a prefetch's check
        # Read up to the last post shown (the accepted answer shows on every page).
        shown = [1, *(post.position for post in page.object_list)]
        if accepted and not page.has_next():
            shown.append(accepted.position)
        reading.mark_read(user=user, thread=thread, position=max(shown), known=thread.read_up_to)
    activity = daily_counts(visible, "created_at")  # hidden posts leave no trace here either
    context = {
        "thread": thread, "opening": opening, "accepted": accepted, "page": page,
        "feed_url": reverse("community:feed-thread", args=[thread.pk]),
        "activity_chart": sparkline(activity, label=ngettext("%(n)d post in the last 30 days",
                                                             "%(n)d posts in the last 30 days", sum(activity))
                                    % {"n": sum(activity)}),
        "is_watching": thread.is_watching, "is_bookmarked": thread.is_bookmarked,
        "can_edit_thread": permissions.can_edit(user, thread),
        "can_accept": permissions.can_accept(user, thread),
        "categories": Category.objects.all() if permissions.can_moderate(user) else [],
        "suggested": Thread.objects.visible_to(user).suggested_after(thread, user) if not page.has_next() else [],
        "muted_ids": set(Mute.objects.filter(user=user).values_list("muted_id", flat=True))
        if user.is_authenticated else set(),
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
            form.add_error(None, posting_too_fast(exc))
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            draft_sent(request, "new-thread")
            return redirect(thread)
    return render(request, "community/new_thread.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def reply(request, pk: int):
    thread = get_object_or_404(Thread.objects.visible_to(request.user), pk=pk)
    if request.method == "GET":  # back from signing in after the session ended mid-reply
        return redirect(thread)
    form = ReplyForm(request.POST)
    if form.is_valid():
        reply_to = None
        if form.cleaned_data.get("reply_to"):
            reply_to = Post.objects.filter(pk=form.cleaned_data["reply_to"], thread=thread).first()
        try:
            post = services.create_post(author=request.user, thread=thread,
                                        body=form.cleaned_data["body"], reply_to=reply_to)
        except RateLimited as exc:
            form.add_error("body", posting_too_fast(exc))
        except PermissionDenied as exc:
            form.add_error("body", str(exc))
        except ValidationError as exc:
            form.add_error("body", " ".join(exc.messages))
        else:
            draft_sent(request, f"reply-{thread.pk}")
            return redirect(post.get_absolute_url())
    messages.error(request, _("Your reply was not posted: see the message below it."))
    context = {"thread": thread, **_reply_context(request, thread, form)}
    return render(request, "community/reply_failed.html", context, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def edit_post(request, pk: int):
    post = get_object_or_404(Post.objects.visible_to(request.user).select_related("thread"), pk=pk)
    if not permissions.can_edit(request.user, post):
        raise PermissionDenied
    form = EditPostForm(request.POST or None, post=post)
    if request.method == "POST" and form.is_valid():
        try:
            services.edit_post(editor=request.user, post=post, body=form.cleaned_data["body"],
                               **form.thread_changes())
        except ValidationError as exc:
            add_errors(form, exc)
        except RateLimited as exc:
            form.add_error("body", posting_too_fast(exc))
        else:
            return redirect(post.get_absolute_url())
    return render(request, "community/edit_post.html", {"form": form, "post": post})


@login_required
@require_http_methods(["GET", "POST"])
def delete_post(request, pk: int):
    """A confirmation page, then the deletion: a reply, or the whole thread for its opening post."""
    post = get_object_or_404(Post.objects.visible_to(request.user).select_related("thread__category"), pk=pk)
    if not permissions.can_delete(request.user, post):
        raise PermissionDenied
    if request.method == "POST":
        services.delete_post(user=request.user, post=post)
        if post.position == 1:
            messages.success(request, _("The thread was deleted."))
            return redirect(post.thread.category)
        messages.success(request, _("Your reply was deleted.") if post.author_id == request.user.pk
                         else _("The reply was deleted."))
        return redirect(post.thread)
    return render(request, "community/delete_post.html", {"post": post})


def search_page(request):
    form = SearchForm(request.GET)
    hits, page = [], None
    if form.is_valid() and form.searches:
        query = form.cleaned_data["q"]
        docs = search.matching(query, kinds=form.kinds(), filters=form.filters())
        page = Paginator(docs, 30).get_page(request.GET.get("page"))
        hits = [search.to_hit(doc, query) for doc in page.object_list]
    return render(request, "community/search.html", {
        "form": form, "query": form.data.get("q", ""), "hits": hits, "page": page, "total": page.paginator.count if page else 0,
        "max_length": settings.SEARCH_MAX_QUERY_LENGTH}, status=400 if form.errors else 200)


@login_required
def bookmarks(request):
    threads = (Thread.objects.visible_to(request.user).bookmarked_by(request.user).for_list()
               .with_new_replies(request.user))
    page = Paginator(threads, 30).get_page(request.GET.get("page"))
    return render(request, "community/bookmarks.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def notifications(request):
    """Opening a page of notifications marks those read; "Mark all read" (a POST) marks the rest,
    on pages not opened, as Discourse's "dismiss all" does."""
    if request.method == "POST":
        services.mark_notifications_read(user=request.user)
        return redirect("community:notifications")
    items = Notification.objects.for_recipient(request.user).select_related("actor", "thread")
    page = Paginator(items, 30).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)  # read before they are marked: the new ones still show as new
    services.mark_notifications_read(user=request.user, ids=[n.pk for n in page.object_list if not n.read])
    return render(request, "community/notifications.html", {"page": page})  # the bell counts what is left


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
    except RateLimited as exc:
        return HttpResponse(_("You have used today's votes. Try again in %(wait)s.") % {"wait": wait_in_words(exc.retry_after)},
                            status=429, headers={"Retry-After": str(round(exc.retry_after))})
    if request.headers.get("HX-Request"):
        return render(request, "community/includes/vote_swap.html", {"post": post})
    return _back(request, post)


@login_required
@require_POST
def accept(request, pk: int):
    thread = get_object_or_404(Thread.objects.visible_to(request.user), pk=pk)
    form = PostIdForm(request.POST)
    if not form.is_valid():
        return HttpResponse(_("Invalid post."), status=400)
    post = None
    if form.cleaned_data["post"]:
        post = get_object_or_404(Post.objects.visible_to(request.user), pk=form.cleaned_data["post"],
                                 thread=thread)
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
def watch_new_threads(request, slug: str = "", name: str = ""):
    """Hear of every new thread in a category (`slug`) or under a tag (`name`), or no longer."""
    where = ({"category": get_object_or_404(Category, slug=slug)} if slug
             else {"tag": get_object_or_404(Tag, name=name)})
    on = request.POST.get("watch") == "1"
    services.set_new_thread_watch(user=request.user, watching=on, **where)
    if request.headers.get("HX-Request"):
        return render(request, "community/includes/watch_new.html", {**where, "watching_new": on})
    return redirect(where["category"] if slug else reverse("community:tag", args=[name]))


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
            raise ValidationError([e for errors in form.errors.values() for e in errors])
        services.flag_post(user=request.user, post=post, kind=form.cleaned_data["kind"] or Flag.Kind.OTHER,
                           reason=form.cleaned_data["reason"])
        messages.success(request, _("Thanks — moderators will review this post."))
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    if not Thread.objects.visible_to(request.user).filter(pk=post.thread_id).exists():
        return redirect(post.thread.category)  # the flag hid the thread: its page is a 404 to them now
    return _back(request, post)


@moderator_required
@require_POST
def moderate(request, pk: int):
    thread = get_object_or_404(Thread, pk=pk)
    slug = request.POST.get("category", "")
    category = Category.objects.filter(slug=slug).first() if "\x00" not in slug else None
    try:
        services.moderate_thread(moderator=request.user, thread=thread,
                                 action=request.POST.get("action", ""), category=category)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return _back(request, thread)


@moderator_required
@require_POST
def hide_post(request, pk: int):
    post = get_object_or_404(Post, pk=pk)
    services.review_post(moderator=request.user, post=post, keep_hidden=request.POST.get("hide") == "1")
    return _back(request, post)


@moderator_required
def review_queue(request):
    if request.method == "POST":
        form = ReviewForm(request.POST)
        if not form.is_valid():
            return HttpResponse(_("Invalid post."), status=400)
        post = get_object_or_404(Post, pk=form.cleaned_data["post"])
        services.review_post(moderator=request.user, post=post,
                             keep_hidden=form.cleaned_data["decision"] == "hide")
        return redirect("community:review")
    open_flags = Flag.objects.filter(resolved=False).select_related("user").order_by("created_at")
    flagged = (Post.objects.filter(needs_review=True).select_related("author", "thread")
               .prefetch_related(Prefetch("flags", queryset=open_flags)).order_by("-flag_count", "-id"))
    page = Paginator(flagged, 30).get_page(request.GET.get("page"))
    return render(request, "community/review.html", {"page": page})
