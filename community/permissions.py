"""One rule per forum action, used by services (which enforce it), views, the API and templates."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from core.permissions import is_moderator

from .models import Post, Thread

can_moderate = is_moderator


def can_edit(user, obj: Thread | Post) -> bool:
    """Edit or delete a thread or post: its author or a moderator."""
    return bool(user.is_authenticated and (user.is_staff or obj.author_id == user.pk))


def can_delete(user, obj: Thread | Post) -> bool:
    """Delete a reply: its author or a moderator. Delete a thread (or its opening post, which is
    the thread): a moderator, or its author while nobody else has replied, as on Discourse;
    otherwise one member could take down everyone's answers, and the reputation they earned."""
    if not can_edit(user, obj):
        return False
    if user.is_staff or (isinstance(obj, Post) and obj.position != 1):
        return True
    thread_id = obj.pk if isinstance(obj, Thread) else obj.thread_id
    return not Post.objects.filter(thread_id=thread_id, position__gt=1).exclude(author_id=user.pk).exists()


def can_reply(user, thread: Thread) -> bool:
    return bool(user.is_authenticated and (not thread.is_locked or user.is_staff))


def can_accept(user, thread: Thread) -> bool:
    """Mark an answer accepted: the question's author or a moderator."""
    return bool(thread.kind == Thread.Kind.QUESTION and user.is_authenticated
                and (user.is_staff or thread.author_id == user.pk))


def can_vote(user, post: Post) -> bool:
    """Vote on a post: any member but its author."""
    return bool(user.is_authenticated and post.author_id != user.pk)


def can_flag(user, post: Post) -> bool:
    """Flag a post for review: any member but its author."""
    return bool(user.is_authenticated and post.author_id != user.pk)


def flag_counts_toward_hide(user) -> bool:
    """Whether a member's flag counts toward hiding a post before a moderator looks (a simple
    form of Discourse's trust levels): moderators, and members whose account is at least
    FORUM_FLAG_MIN_ACCOUNT_AGE_DAYS old and who have FORUM_FLAG_MIN_REPUTATION reputation. Anyone
    else's flag only puts the post in the review queue. Both, not either: three accounts made
    today can upvote one another past the reputation in minutes, and an old account that never
    took part costs nothing to keep."""
    if is_moderator(user):
        return True
    min_age = timedelta(days=settings.FORUM_FLAG_MIN_ACCOUNT_AGE_DAYS)
    return bool(user.is_authenticated and timezone.now() - user.date_joined >= min_age
                and user.reputation >= settings.FORUM_FLAG_MIN_REPUTATION)


def can_suspend(user, member) -> bool:
    """Suspend a member or lift it: a moderator, for a member who is not staff (nor themselves)."""
    return bool(is_moderator(user) and not member.is_staff and member.pk != user.pk)


def can_mute(user, member) -> bool:
    """Mute a member: any member, of anyone but themselves and the moderators."""
    return bool(user.is_authenticated and member.pk != user.pk and not member.is_staff)
