"""Who hears about a new post: the thread's author, the post replied to, mentions, watchers (of
the thread; of a new thread's category or tags); and a member about their own job that ended
(`notify_member`, for the apps above the forum)."""
from __future__ import annotations

from django.db import IntegrityError, transaction

from .limits import max_mentions_per_post
from .models import CategoryWatch, EmailNotifications, Mute, Notification, Post, TagWatch, User, Watch
from .tasks import schedule_emails


def notify_once(*, recipient_id: int, actor: User, kind: str, post: Post) -> None:
    """Create a notification unless the same one exists (a constraint keeps it single); a new
    one may also go out by e-mail."""
    if recipient_id == actor.pk or Mute.objects.filter(user_id=recipient_id, muted=actor).exists():
        return
    try:
        with transaction.atomic():
            notification, created = Notification.objects.get_or_create(
                recipient_id=recipient_id, actor=actor, kind=kind, post=post,
                defaults={"thread_id": post.thread_id},
            )
    except IntegrityError:
        return  # a concurrent request created it
    if created:
        schedule_emails([notification])


def notify_member(*, recipient_id: int, kind: str, post: Post | None = None, subject: str = "",
                  link: str = "") -> Notification:
    """A notification no member sent, with the e-mail it may bring: about a post (members' flags
    hid it), or about something else, named by `subject` at `link` (a fine-tune or an
    evaluation that ended)."""
    notification = Notification.objects.create(
        recipient_id=recipient_id, kind=kind, post=post, thread_id=post.thread_id if post else None,
        subject=subject[:Notification._meta.get_field("subject").max_length], link=link)
    schedule_emails([notification])
    return notification


def notify_new_post(*, post: Post, mentions: list[str], only_mentions: bool = False,
                    actor: User | None = None) -> None:
    """Tell who should hear about a new (or edited) post: the people it mentions, the author of
    the post it replies to, and whoever watches the thread (its author does from the start, until
    they stop watching it). `actor` is who wrote it: the post's author, or whoever edited it.

    Only the first FORUM_MAX_MENTIONS_PER_POST distinct names mentioned notify (10, as on
    Discourse), over the post's first version and its edits together: the post itself is
    accepted and still links every name, so a long list of @names is neither a way to spam
    members nor one query with thousands of parameters."""
    actor = actor or post.author
    told: set[int] = {actor.pk}
    # The cap is the post's, across its edits: each edit naming ten new members would otherwise
    # reach ten more.
    already = Notification.objects.filter(post=post, kind=Notification.Kind.MENTION).count() if only_mentions else 0
    notified_names = list(dict.fromkeys(mentions))[:max(0, max_mentions_per_post() - already)]
    mentioned = User.objects.named_ignoring_case(notified_names).values_list("pk", flat=True) if notified_names else []
    for user_id in mentioned:
        notify_once(recipient_id=user_id, actor=actor, kind=Notification.Kind.MENTION, post=post)
        told.add(user_id)
    if only_mentions:
        return
    if post.position == 1:
        watching = (set(CategoryWatch.objects.filter(category=post.thread.category_id).values_list("user_id", flat=True))
                    | set(TagWatch.objects.filter(tag__threads=post.thread_id).values_list("user_id", flat=True)))
        _tell_watchers(post=post, actor=actor, kind=Notification.Kind.NEW_THREAD, user_ids=watching - told)
        return
    watching = set(Watch.objects.filter(thread_id=post.thread_id).values_list("user_id", flat=True))
    direct = {post.thread.author_id} & watching
    if post.reply_to_id:
        direct.add(post.reply_to.author_id)  # a direct reply reaches its addressee, as on Discourse
    for user_id in direct - told:
        notify_once(recipient_id=user_id, actor=actor, kind=Notification.Kind.REPLY, post=post)
        told.add(user_id)
    _tell_watchers(post=post, actor=actor, kind=Notification.Kind.WATCHING, user_ids=watching - told)


def _tell_watchers(*, post: Post, actor: User, kind: str, user_ids: set[int]) -> None:
    """One notification each for members who watch where `post` went (its thread; for a new
    thread, its category or a tag), unless they muted its author; by e-mail to those who want
    every notification."""
    others = user_ids - set(Mute.objects.filter(muted=actor, user_id__in=user_ids).values_list("user_id", flat=True))
    if not others:
        return
    Notification.objects.bulk_create(
        [Notification(recipient_id=uid, actor=actor, kind=kind, post=post, thread_id=post.thread_id)
         for uid in others],
        ignore_conflicts=True,
    )
    # With ignore_conflicts the rows come back without ids: the few whose members want every
    # notification by e-mail are read back.
    schedule_emails(list(Notification.objects.filter(
        post=post, kind=kind, recipient_id__in=others,
        recipient__email_notifications=EmailNotifications.ALL).only("pk", "kind")))
