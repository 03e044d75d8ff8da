"""Moderation: members' flags, the review queue, hiding posts and threads, pins, locks, moves."""
from __future__ import annotations

from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from .emails import send_suspension_email
from .indexing import sync_visibility
from .models import (REPUTATION_ACCEPTED, Category, Flag, ModerationAction, ModerationLog, Notification, Post, Thread,
                     User)
from .notify import notify_member, notify_once
from .permissions import can_flag, can_moderate, can_suspend, flag_counts_toward_hide

FLAG_REASON_MAX_LENGTH = Flag._meta.get_field("reason").max_length


@transaction.atomic
def flag_post(*, user: User, post: Post, reason: str = "", kind: str = Flag.Kind.OTHER) -> Flag:
    """Flag a post for review, for one of Discourse's reasons (`kind`; "other" must say why in
    `reason`). Every flag puts the post in the review queue; it is hidden before review only by a
    moderator's flag or by FORUM_FLAGS_TO_HIDE open flags from members whose flags count
    (`flag_counts_toward_hide`). Flags resolved by a review no longer count, so a restored post
    stays up until enough new flags arrive."""
    if kind not in Flag.Kind.values:
        raise ValidationError({"kind": [_("One of: %(kinds)s.") % {"kinds": ", ".join(Flag.Kind.values)}]})
    reason = (reason or "").strip()
    if kind == Flag.Kind.OTHER and not reason:
        raise ValidationError({"reason": [_("Say why this post should be reviewed.")]})
    if not can_flag(user, post):
        raise PermissionDenied(_("You cannot flag your own post."))
    # The thread, then the post, as a reply and a delete take them (hiding moves the thread's count).
    Thread.objects.select_for_update(no_key=True).filter(pk=post.thread_id).first()
    post = get_object_or_404(Post.objects.select_for_update(no_key=True), pk=post.pk)  # one flag at a time decides; gone: 404
    flag, created = Flag.objects.get_or_create(
        user=user, post=post,
        defaults={"kind": kind, "reason": reason[:FLAG_REASON_MAX_LENGTH],
                  "counts_toward_hide": flag_counts_toward_hide(user)},
    )
    if not created:
        return flag
    Post.objects.filter(pk=post.pk).update(flag_count=F("flag_count") + 1, needs_review=True)
    counting = post.flags.filter(resolved=False, counts_toward_hide=True).count()
    by_members = counting >= settings.FORUM_FLAGS_TO_HIDE and not post.author.is_staff  # as in Discourse
    if not post.is_hidden and (can_moderate(user) or by_members):
        set_post_hidden(post=post, hidden=True, needs_review=True)
        _tell_author(post, Notification.Kind.POST_HIDDEN if can_moderate(user) else Notification.Kind.FLAGGED_HIDDEN,
                     moderator=user if can_moderate(user) else None)
    return flag


def _tell_author(post: Post, kind: str, *, moderator: User | None) -> None:
    """The author hears that their post was hidden or restored, and by whom (as Discourse tells
    them, so that they can edit it), unless they did it themselves."""
    if moderator is None:
        notify_member(recipient_id=post.author_id, kind=kind, post=post)
    else:
        notify_once(recipient_id=post.author_id, actor=moderator, kind=kind, post=post)


def held_hidden(thread_id: int) -> str | None:
    """Why an app above the forum keeps this thread hidden whatever happens to its posts (the
    discussion of a taken-down resource), in words for a moderator; None when none does."""
    return next(filter(None, (getattr(config, "holds_thread_hidden", lambda _id: None)(thread_id)
                              for config in apps.get_app_configs())), None)


def set_thread_hidden(*, thread_id: int, hidden: bool) -> None:
    """Hide or show a thread (not while an app holds it hidden). Its category counts the threads
    everyone sees, as its list shows them."""
    if not hidden and held_hidden(thread_id):
        return
    if Thread.objects.filter(pk=thread_id, is_hidden=not hidden).update(is_hidden=hidden):
        Category.objects.filter(pk__in=Thread.objects.filter(pk=thread_id).values("category_id")).update(
            thread_count=F("thread_count") + (-1 if hidden else 1))


def set_post_hidden(*, post: Post, hidden: bool, needs_review: bool = False) -> None:
    """Hide or show one post; the opening post carries its thread with it. A thread's reply count
    is of the replies everyone sees (its list shows it, and "unanswered" means none). A hidden
    answer stops being the accepted one, and its author loses what accepting it gave: readers
    would see "Solved" with no answer to read."""
    changed = Post.objects.filter(pk=post.pk, is_hidden=not hidden).update(is_hidden=hidden, needs_review=needs_review)
    if not changed:
        Post.objects.filter(pk=post.pk).update(needs_review=needs_review)
    if post.position == 1:
        set_thread_hidden(thread_id=post.thread_id, hidden=hidden)
    elif changed:
        Thread.objects.filter(pk=post.thread_id).update(reply_count=F("reply_count") + (-1 if hidden else 1))
    if hidden and Thread.objects.filter(pk=post.thread_id, accepted_post=post.pk).update(accepted_post=None):
        take_back_acceptance(thread=Thread.objects.get(pk=post.thread_id), answer=post)
    sync_visibility(thread_id=post.thread_id)


def take_back_acceptance(*, thread: Thread, answer: Post | None = None) -> None:
    """The answer (by default, the thread's accepted one) is accepted no more: its author loses
    what accepting it gave them. Accepting one's own reply earned nothing, so costs nothing. The
    caller unsets `accepted_post`."""
    answer = answer or thread.accepted_post
    if answer is not None and answer.author_id != thread.author_id:
        User.objects.filter(pk=answer.author_id).update(reputation=F("reputation") - REPUTATION_ACCEPTED)


@transaction.atomic
def review_post(*, moderator: User, post: Post, keep_hidden: bool) -> None:
    """A moderator's decision on a post (from the queue or the hide button): hide or show it,
    and resolve every flag made so far, so that only flags made after it count."""
    if not can_moderate(moderator):
        raise PermissionDenied
    Thread.objects.select_for_update(no_key=True).filter(pk=post.thread_id).first()  # the order a delete takes
    was_hidden = Post.objects.filter(pk=post.pk, is_hidden=True).exists()
    set_post_hidden(post=post, hidden=keep_hidden, needs_review=False)
    if keep_hidden != was_hidden:
        _tell_author(post, Notification.Kind.POST_HIDDEN if keep_hidden else Notification.Kind.POST_RESTORED,
                     moderator=moderator)
        log_action(moderator=moderator, action=ModerationLog.Action.POST_HIDDEN if keep_hidden
                   else ModerationLog.Action.POST_RESTORED, subject=post.thread.title, link=post.get_absolute_url(),
                   member=post.author)
    post.flags.filter(resolved=False).update(resolved=True)
    Post.objects.filter(pk=post.pk).update(flag_count=0)


@transaction.atomic
def moderate_thread(*, moderator: User, thread: Thread, action: str,
                    category: Category | None = None) -> Thread:
    if not can_moderate(moderator):
        raise PermissionDenied(_("Only moderators may do this."))
    if action not in ModerationAction.values:
        raise ValidationError({"action": [_("Unknown action.")]})
    thread = Thread.objects.select_for_update(no_key=True).get(pk=thread.pk)
    if action == ModerationAction.MOVE:
        if category is None:
            raise ValidationError({"category": [_("Choose the category to move to.")]})
        if not thread.is_hidden:  # a category counts the threads everyone sees
            Category.objects.filter(pk=thread.category_id).update(thread_count=F("thread_count") - 1)
            Category.objects.filter(pk=category.pk).update(thread_count=F("thread_count") + 1)
        thread.category = category
    elif action in (ModerationAction.HIDE, ModerationAction.UNHIDE):
        if action == ModerationAction.UNHIDE and (reason := held_hidden(thread.pk)):
            raise ValidationError({"action": [reason]})
        thread.is_hidden = action == ModerationAction.HIDE
        set_thread_hidden(thread_id=thread.pk, hidden=thread.is_hidden)
        opening = thread.posts.filter(position=1, is_hidden=True).first()
        if action == ModerationAction.UNHIDE and opening is not None:
            # Hidden with its opening post (a flag, the post's hide button): both show again,
            # else the thread would be listed with a page that is a 404.
            review_post(moderator=moderator, post=opening, keep_hidden=False)
    else:
        field = "is_pinned" if action in (ModerationAction.PIN, ModerationAction.UNPIN) else "is_locked"
        setattr(thread, field, action in (ModerationAction.PIN, ModerationAction.LOCK))
    thread.save(update_fields=["category", "is_hidden", "is_pinned", "is_locked"])
    if action in (ModerationAction.HIDE, ModerationAction.UNHIDE):
        sync_visibility(thread_id=thread.pk)
    log_action(moderator=moderator, action=action, subject=thread.title, link=thread.get_absolute_url(),
               member=thread.author, detail=category.name if action == ModerationAction.MOVE else "")
    return thread


SUSPENSION_MAX_DAYS = 3650
SUSPENSION_REASON_MAX_LENGTH = User._meta.get_field("suspension_reason").max_length


@transaction.atomic
def suspend_member(*, moderator: User, member: User, days: int, reason: str) -> User:
    """Suspend `member` for `days`: their sessions end, the log-in form and their API keys refuse
    them until then, their profile says so and why, and they are told by e-mail. Their posts stay."""
    if not can_suspend(moderator, member):
        raise PermissionDenied(_("Only moderators may suspend members, and not other moderators."))
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= SUSPENSION_MAX_DAYS:
        raise ValidationError({"days": [_("A whole number of days from 1 to %(n)d.") % {"n": SUSPENSION_MAX_DAYS}]})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why: the member and everyone reading their profile see it.")]})
    if len(reason) > SUSPENSION_REASON_MAX_LENGTH:
        raise ValidationError({"reason": [_("At most %(n)d characters.") % {"n": SUSPENSION_REASON_MAX_LENGTH}]})
    member = User.objects.select_for_update(no_key=True).get(pk=member.pk)
    member.suspended_until, member.suspension_reason = timezone.now() + timedelta(days=days), reason
    member.save(update_fields=["suspended_until", "suspension_reason"])
    transaction.on_commit(lambda: send_suspension_email(member), robust=True)
    log_action(moderator=moderator, action=ModerationLog.Action.SUSPEND, subject=member.username,
               link=member.get_absolute_url(), member=member, detail=f"{days} d: {reason}")
    return member


@transaction.atomic
def lift_suspension(*, moderator: User, member: User) -> User:
    if not can_suspend(moderator, member):
        raise PermissionDenied(_("Only moderators may suspend members, and not other moderators."))
    User.objects.filter(pk=member.pk).update(suspended_until=None, suspension_reason="")
    member.refresh_from_db()
    log_action(moderator=moderator, action=ModerationLog.Action.LIFT_SUSPENSION, subject=member.username,
               link=member.get_absolute_url(), member=member)
    return member


@transaction.atomic
def set_revision_hidden(*, moderator: User, revision, hidden: bool) -> None:
    if not can_moderate(moderator):
        raise PermissionDenied(_("Only moderators may do this."))
    type(revision).objects.filter(pk=revision.pk).update(is_hidden=hidden)
    post = revision.post
    log_action(moderator=moderator, action=ModerationLog.Action.REVISION_HIDDEN if hidden
               else ModerationLog.Action.REVISION_SHOWN, subject=post.thread.title, link=post.get_absolute_url(),
               member=post.author, detail=f"#{revision.number}")


def log_action(*, moderator: User, action: str, subject: str, link: str = "", member: User | None = None,
               detail: str = "") -> None:
    """One entry in the moderation log (also for what other apps' moderators do: a takedown)."""
    ModerationLog.objects.create(moderator=moderator, action=action, member=member, subject=subject[:300],
                                 link=link[:400], detail=detail[:500])
