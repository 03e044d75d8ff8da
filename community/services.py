"""Writes with side effects for the forum: threads, posts, edits, votes, answers.

Moderation (flags, review, hiding) lives in `moderation`; its functions are re-exported here so
that callers have one place for forum writes.
"""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from core import locks, markdown, search
from core.exceptions import RateLimited
from core.permissions import is_moderator
from core.models import Tag
from core.services import clean_tags, tags_named

from .indexing import index_post, reindex_thread, retitle_replies
from .models import (REPUTATION_ACCEPTED, REPUTATION_DOWNVOTE, REPUTATION_UPVOTE, Bookmark, Category, CategoryWatch,
                     Mute, Notification, Post, PostRevision, TagWatch, Thread, User, Vote, Watch)
from .moderation import (  # noqa: F401  (re-exported: see the docstring)
    FLAG_REASON_MAX_LENGTH,
    flag_post,
    lift_suspension,
    moderate_thread,
    review_post,
    set_post_hidden,
    set_revision_hidden,
    suspend_member,
    take_back_acceptance,
)
from .notify import notify_new_post, notify_once
from .permissions import can_accept, can_delete, can_edit, can_mute, can_reply, can_vote
from .reading import read_up_to

TITLE_MAX_LENGTH = Thread._meta.get_field("title").max_length


def _check_body(body: str) -> markdown.Rendered:
    body = body.strip()
    if not body:
        raise ValidationError({"body": [_("This field may not be blank.")]})
    if len(body) > settings.MARKDOWN_MAX_LENGTH:
        raise ValidationError({"body": [_("Ensure this field has no more than %(n)d characters.")
                                        % {"n": settings.MARKDOWN_MAX_LENGTH}]})
    return markdown.render(body)


def _clean_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": [_("This field may not be blank.")]})
    if len(title) > TITLE_MAX_LENGTH:
        raise ValidationError({"title": [_("Ensure this field has no more than %(n)d characters.")
                                         % {"n": TITLE_MAX_LENGTH}]})
    return title


def _enforce_rate_limit(user: User, *, creating_thread: bool) -> None:
    """Discourse's limits, stricter on a member's first day. Staff are exempt."""
    if user.is_staff:
        return
    # Serialise this member's own writes. FOR NO KEY UPDATE, not FOR UPDATE: the latter also
    # blocks every row that references the member (a reply notifying them takes a KEY SHARE
    # lock for its foreign key), so two members replying to each other's threads deadlocked.
    User.objects.select_for_update(no_key=True).filter(pk=user.pk).first()
    limits = settings.FORUM_RATE_LIMITS
    now = timezone.now()
    is_new = (now - user.date_joined).total_seconds() < limits["new_user_age_s"]
    if creating_thread:
        interval = limits["new_user_thread_interval_s" if is_new else "thread_interval_s"]
        recent = Thread.objects.filter(author=user)
    else:
        interval = limits["new_user_post_interval_s" if is_new else "post_interval_s"]
        recent = Post.objects.filter(author=user, position__gt=1)
    last = recent.order_by("-created_at").values_list("created_at", flat=True).first()
    if last is not None:
        wait = interval - (now - last).total_seconds()
        if wait > 0:
            raise RateLimited(retry_after=wait)
    if is_new:
        day_cap = limits["new_user_max_threads_per_day" if creating_thread else "new_user_max_posts_per_day"]
        if recent.filter(created_at__gte=now - timezone.timedelta(days=1)).count() >= day_cap:
            raise RateLimited(retry_after=limits["new_user_age_s"] - (now - user.date_joined).total_seconds())


@transaction.atomic
def create_thread(*, author: User, category: Category, title: str, body: str,
                  tags: list[str] | None = None, kind: str = Thread.Kind.DISCUSSION,
                  enforce_limits: bool = True, started_by_site: bool = False) -> Thread:
    """A new thread with its opening post. `started_by_site`: a thread the site opens itself (a
    hub resource's discussion), in a category where members only reply."""
    if not (started_by_site or category.members_start_threads or is_moderator(author)):
        raise ValidationError({"category": [_("Threads in this category are started by the site; "
                                              "reply there, or choose another category.")]})
    title = _clean_title(title)
    rendered = _check_body(body)
    clean_tags(tags or [])
    if enforce_limits:
        _enforce_rate_limit(author, creating_thread=True)
    thread = Thread.objects.create(category=category, author=author, title=title, kind=kind)
    thread.tags.set(tags_named(tags or []))
    post = Post.objects.create(thread=thread, author=author, position=1, body=body.strip(),
                               body_html=rendered.html)
    Category.objects.filter(pk=category.pk).update(thread_count=F("thread_count") + 1)
    Watch.objects.get_or_create(user=author, thread=thread)
    read_up_to(user=author, thread=thread, position=1)
    notify_new_post(post=post, mentions=rendered.mentions)
    reindex_thread(thread)
    return thread


@transaction.atomic
def create_post(*, author: User, thread: Thread, body: str, reply_to: Post | None = None,
                enforce_limits: bool = True) -> Post:
    rendered = _check_body(body)
    thread = Thread.objects.select_for_update(no_key=True).get(pk=thread.pk)
    if not can_reply(author, thread):
        raise PermissionDenied(_("This thread is locked."))
    if reply_to is not None and reply_to.thread_id != thread.pk:
        raise ValidationError({"reply_to": [_("The post replied to is not in this thread.")]})
    if reply_to is not None and not Post.objects.visible_to(author).filter(pk=reply_to.pk).exists():
        raise ValidationError({"reply_to": [_("The post replied to is not in this thread.")]})
    if enforce_limits:
        _enforce_rate_limit(author, creating_thread=False)
    now = timezone.now()
    post = Post.objects.create(thread=thread, author=author, position=thread.highest_position + 1,
                               body=body.strip(), body_html=rendered.html, reply_to=reply_to,
                               created_at=now)
    Thread.objects.filter(pk=thread.pk).update(reply_count=F("reply_count") + 1, last_activity_at=now,
                                               highest_position=F("highest_position") + 1)
    Watch.objects.get_or_create(user=author, thread=thread)
    read_up_to(user=author, thread=thread, position=post.position)
    notify_new_post(post=post, mentions=rendered.mentions)
    index_post(post)
    return post


def _cap_in_window(rows, *, cap: int, window: timezone.timedelta, lock: str) -> None:
    """RateLimited when `rows` (a member's own, with a `created_at`) hold `cap` made within
    `window`; the wait is until the oldest of those leaves it. The member's `lock` is held to the
    end of the transaction, so that simultaneous requests count one after another, each seeing
    the rows the ones before it wrote."""
    locks.hold(lock)
    since = timezone.now() - window
    recent = rows.filter(created_at__gte=since)
    if recent.count() >= cap:
        oldest = recent.order_by("created_at").values_list("created_at", flat=True).first()
        raise RateLimited(retry_after=max(1.0, (oldest - since).total_seconds()))


def _enforce_edit_limit(user: User) -> None:
    """At most FORUM_EDITS_PER_HOUR edits (revisions kept) an hour per member; staff are exempt.
    Each edit renders the post, diffs it and may mention new names."""
    if not user.is_staff:
        _cap_in_window(PostRevision.objects.filter(editor=user), cap=settings.FORUM_EDITS_PER_HOUR,
                       window=timezone.timedelta(hours=1), lock=f"edits:{user.pk}")


@transaction.atomic
def edit_post(*, editor: User, post: Post, body: str | None, title: str | None = None,
              tags: list[str] | None = None, kind: str | None = None) -> Post:
    """A new body for a post (None: the body it has when locked); for an opening post,
    optionally the thread's title, tags and kind too. Everything is validated before anything
    is written. A change of body or title keeps the post as it was as a revision, and marks it
    edited. Locks the thread, then the post, the order replies, flags and deletes take them."""
    if not can_edit(editor, post):
        raise PermissionDenied(_("You may not edit this post."))
    rendered = _check_body(body) if body is not None else None
    if post.position != 1 and (title, tags, kind) != (None, None, None):
        field = "title" if title is not None else "tags" if tags is not None else "kind"
        raise ValidationError({field: [_("Only the opening post carries the thread's title, tags and kind.")]})
    if title is not None:
        title = _clean_title(title)
    if kind is not None and kind not in Thread.Kind.values:
        raise ValidationError({"kind": [_("Must be one of: %(kinds)s.") % {"kinds": ", ".join(Thread.Kind.values)}]})
    new_tags = tags_named(tags) if tags is not None else None
    _enforce_edit_limit(editor)
    thread = get_object_or_404(Thread.objects.select_for_update(no_key=True), pk=post.thread_id)
    post = get_object_or_404(Post.objects.select_for_update(no_key=True), pk=post.pk)  # deleted meanwhile: 404
    old_title, post_before = thread.title, post.body
    retitled = title is not None and title != old_title
    rebodied = rendered is not None and body.strip() != post_before
    if (title, tags, kind) != (None, None, None):
        thread = _change_thread(thread=thread, title=title if retitled else None, tags=new_tags, kind=kind)
    post.thread = thread
    if retitled or rebodied:
        PostRevision.objects.create(post=post, editor=editor, number=post.revisions.count() + 1, body=post_before,
                                    body_html=post.body_html, title=old_title if post.position == 1 else "")
        post.edited_at = timezone.now()
        if rebodied:
            post.body, post.body_html = body.strip(), rendered.html
        post.save(update_fields=["body", "body_html", "edited_at"])
    if rebodied:
        # Only the names this edit adds: a typo fixed must not mention everyone again.
        added = [name for name in rendered.mentions if name not in markdown.render(post_before).mentions]
        notify_new_post(post=post, mentions=added, only_mentions=True, actor=editor)
    if post.position == 1 and (rebodied or (title, tags, kind) != (None, None, None)):
        reindex_thread(thread)
    elif rebodied:
        index_post(post)
    if retitled:
        retitle_replies(thread)
    if (retitled or rebodied) and post.is_hidden and not is_moderator(editor):
        # As on Discourse, the author's fix of a hidden post goes back to the moderators' queue
        # (what the "hid your post" notification tells them).
        Post.objects.filter(pk=post.pk).update(needs_review=True)
    return post


def update_thread(*, editor: User, thread: Thread, title: str | None = None,
                  tags: list[str] | None = None, kind: str | None = None) -> Thread:
    """The thread's title, tags or kind, as an edit of its opening post that keeps its body: a
    new title keeps the old one in the post's revisions, whichever door the edit came through."""
    if not can_edit(editor, thread):
        raise PermissionDenied(_("You may not edit this thread."))
    opening = thread.posts.get(position=1)
    return edit_post(editor=editor, post=opening, body=None, title=title, tags=tags, kind=kind).thread


def _change_thread(*, thread: Thread, title: str | None, tags: list[Tag] | None, kind: str | None) -> Thread:
    """Write only the fields given (validated, on the row the caller locked): counters that
    concurrent replies and votes write meanwhile (reply_count, score, last_activity_at) are kept."""
    changes: dict = {}
    if title is not None:
        changes.update(title=title, slug=Thread.slug_for(title))
    if kind is not None:
        changes["kind"] = kind
        if kind != Thread.Kind.QUESTION and thread.accepted_post_id is not None:
            # Only questions have accepted answers: a discussion shows none and is not "Solved".
            take_back_acceptance(thread=thread)
            changes["accepted_post"] = None
    if changes:
        Thread.objects.filter(pk=thread.pk).update(**changes)
    thread = Thread.objects.get(pk=thread.pk)
    if tags is not None:
        thread.tags.set(tags)
    return thread


def rebake_posts(batch_size: int = 500) -> int:
    """Render every stored post and revision again with today's renderer and sanitiser (after
    either changed: a tightened allow-list must reach HTML saved before it). Returns how many
    changed. Nobody is notified again: mentions are only linked."""
    changed = 0
    for model in (Post, PostRevision):
        for pk, body, html in model.objects.values_list("pk", "body", "body_html").iterator(batch_size):
            fresh = markdown.render(body).html
            if fresh != html:
                changed += model.objects.filter(pk=pk).update(body_html=fresh)
    return changed


@transaction.atomic
def delete_post(*, user: User, post: Post) -> None:
    if post.position == 1:
        delete_thread(user=user, thread=post.thread)
        return
    if not can_delete(user, post):
        raise PermissionDenied(_("You may not delete this post."))
    # The thread, then the post, as a reply takes them: a second click or a retried request
    # waits for the first, then finds nothing to delete or count off; a vote cast meanwhile has
    # committed before the reputation it gave is taken back.
    thread = Thread.objects.select_for_update(no_key=True).filter(pk=post.thread_id).first()
    was_hidden = Post.objects.select_for_update().filter(pk=post.pk).values_list("is_hidden", flat=True).first()
    if thread is None or was_hidden is None:
        return
    _take_back_reputation(thread=thread, post_ids=[post.pk])
    Post.objects.filter(pk=post.pk).delete()  # the accepted answer goes with it (SET_NULL)
    if not was_hidden:  # a hidden reply was already counted off when it was hidden
        Thread.objects.filter(pk=thread.pk).update(reply_count=F("reply_count") - 1)
    search.remove(kind=search.Kind.POST, object_ids=[post.pk])


@transaction.atomic
def delete_thread(*, user: User, thread: Thread) -> None:

    # Locked and read afresh: a second delete finds nothing to take off the count, and a thread
    # moved meanwhile is counted off the category it is in now.
    locked = Thread.objects.select_for_update().filter(pk=thread.pk).first()
    if locked is None:
        return
    # Checked under the lock: a reply committed since the page was read counts.
    if not can_delete(user, locked):
        raise PermissionDenied(_("Only a moderator may delete a thread others have replied to.")
                               if can_edit(user, locked) else _("You may not delete this thread."))
    thread = locked
    post_ids = list(Post.objects.select_for_update().filter(thread=thread).values_list("pk", flat=True))
    _take_back_reputation(thread=thread, post_ids=post_ids)
    if not thread.is_hidden:  # a hidden thread was taken off its category's count already
        Category.objects.filter(pk=thread.category_id).update(thread_count=F("thread_count") - 1)
    search.remove(kind=search.Kind.THREAD, object_ids=[thread.pk])
    search.remove(kind=search.Kind.POST, object_ids=post_ids)
    Thread.objects.filter(pk=thread.pk).delete()


def _take_back_reputation(*, thread: Thread, post_ids: list[int]) -> None:
    """What the posts' authors earned on them (votes, an accepted answer) goes with the posts,
    so that a member's reputation stays the sum of what stands (as on Stack Overflow)."""
    earned: dict[int, int] = {}
    for row in (Vote.objects.filter(post_id__in=post_ids).values("post__author_id")
                .annotate(up=Count("pk", filter=Q(value=Vote.Value.UP)),
                          down=Count("pk", filter=Q(value=Vote.Value.DOWN)))):
        earned[row["post__author_id"]] = (row["up"] * _reputation_delta(Vote.Value.UP)
                                          + row["down"] * _reputation_delta(Vote.Value.DOWN))
    if thread.accepted_post_id in post_ids:
        answerer = Post.objects.values_list("author_id", flat=True).get(pk=thread.accepted_post_id)
        if answerer != thread.author_id:  # accepting one's own answer earns nothing
            earned[answerer] = earned.get(answerer, 0) + REPUTATION_ACCEPTED
    for author_id in sorted(earned):  # one order for every delete: no two wait on each other
        if earned[author_id]:
            User.objects.filter(pk=author_id).update(reputation=F("reputation") - earned[author_id])


def _reputation_delta(value: int) -> int:
    return {Vote.Value.UP: REPUTATION_UPVOTE, Vote.Value.DOWN: REPUTATION_DOWNVOTE}.get(value, 0)


def _enforce_vote_limit(user: User) -> None:
    """At most FORUM_VOTES_PER_DAY new votes a day per member (Stack Overflow's 40): each moves
    someone's reputation, so a script cannot move it wholesale. Changing or withdrawing a vote is
    free; staff are exempt."""
    if not user.is_staff:
        _cap_in_window(Vote.objects.filter(user=user), cap=settings.FORUM_VOTES_PER_DAY,
                       window=timezone.timedelta(days=1), lock=f"votes:{user.pk}")


@transaction.atomic
def vote(*, user: User, post: Post, value: int) -> Post:
    """Set the user's vote on a post to +1, -1 or 0 (none); score and reputation follow."""
    if value not in (*Vote.Value.values, 0):
        raise ValidationError({"value": [_("Must be 1, -1 or 0.")]})
    # FOR NO KEY UPDATE, as for every lock on a post or thread here: FOR UPDATE would also block
    # the KEY SHARE lock that a new row referencing it takes (a reply to this post), so a vote and
    # a reply each waited for the other's commit: a deadlock, and a 500 for one of them.
    post = get_object_or_404(Post.objects.select_for_update(no_key=True), pk=post.pk)  # deleted meanwhile: 404
    if not can_vote(user, post):
        raise PermissionDenied(_("You cannot vote on your own post."))
    existing = Vote.objects.filter(user=user, post=post).first()
    old = existing.value if existing else 0
    if old == value:
        post.my_vote = value or None
        return post
    if existing is None:
        _enforce_vote_limit(user)
    if value == 0:
        existing.delete()
    elif existing:
        Vote.objects.filter(pk=existing.pk).update(value=value)
    else:
        try:
            with transaction.atomic():
                Vote.objects.create(user=user, post=post, value=value)
        except IntegrityError:  # a concurrent request voted first; keep its row, set its value
            Vote.objects.filter(user=user, post=post).update(value=value)
    Post.objects.filter(pk=post.pk).update(score=F("score") + (value - old))
    if post.position == 1:
        Thread.objects.filter(pk=post.thread_id).update(score=F("score") + (value - old))
    delta = _reputation_delta(value) - _reputation_delta(old)
    User.objects.filter(pk=post.author_id).update(reputation=F("reputation") + delta)
    if value == Vote.Value.UP:
        notify_once(recipient_id=post.author_id, actor=user, kind=Notification.Kind.VOTE, post=post)
    post.refresh_from_db(fields=["score"])
    post.my_vote = value or None
    return post


@transaction.atomic
def accept_answer(*, user: User, thread: Thread, post: Post | None) -> Thread:
    thread = Thread.objects.select_for_update(no_key=True).get(pk=thread.pk)
    if thread.kind != Thread.Kind.QUESTION:
        raise ValidationError({"post": [_("Only questions have accepted answers.")]})
    if not can_accept(user, thread):
        raise PermissionDenied(_("Only the question's author or a moderator may accept an answer."))
    if post is not None and (post.thread_id != thread.pk or post.position == 1
                             or not Post.objects.visible_to(user).filter(pk=post.pk).exists()):
        raise ValidationError({"post": [_("Choose a reply in this thread.")]})
    if thread.accepted_post == post:
        return thread
    take_back_acceptance(thread=thread)
    if post is not None and post.author_id != thread.author_id:
        User.objects.filter(pk=post.author_id).update(reputation=F("reputation") + REPUTATION_ACCEPTED)
        notify_once(recipient_id=post.author_id, actor=user, kind=Notification.Kind.ACCEPTED, post=post)
    thread.accepted_post = post
    thread.save(update_fields=["accepted_post"])
    return thread


def set_watch(*, user: User, thread: Thread, watching: bool) -> None:
    if watching:
        Watch.objects.get_or_create(user=user, thread=thread)
    else:
        Watch.objects.filter(user=user, thread=thread).delete()


def set_new_thread_watch(*, user: User, watching: bool, category: Category | None = None, tag: Tag | None = None) -> None:
    """Hear of every new thread in a category or under a tag, or no longer."""
    model, where = (CategoryWatch, {"category": category}) if category is not None else (TagWatch, {"tag": tag})
    if watching:
        model.objects.get_or_create(user=user, **where)
    else:
        model.objects.filter(user=user, **where).delete()


def set_mute(*, user: User, member: User, muted: bool) -> None:
    if not can_mute(user, member):
        raise PermissionDenied(_("You cannot mute yourself or a moderator."))
    if muted:
        Mute.objects.get_or_create(user=user, muted=member)
    else:
        Mute.objects.filter(user=user, muted=member).delete()


def set_bookmark(*, user: User, thread: Thread, marked: bool) -> None:
    if marked:
        Bookmark.objects.get_or_create(user=user, thread=thread)
    else:
        Bookmark.objects.filter(user=user, thread=thread).delete()


def mark_notifications_read(*, user: User, ids: list[int] | None = None) -> int:
    unread = user.notifications.filter(read=False)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read=True)
