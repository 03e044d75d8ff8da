from core.permissions import is_moderator

from .models import Notification, Post

DRAFT_SENT = "draft_sent"  # session key: the data-draft key of the form a member just sent


def draft_sent(request, name: str) -> None:
    """The form `name` (its data-draft key, less the member) went through: its draft can go."""
    request.session[DRAFT_SENT] = f"{request.user.pk}:{name}"


def navigation(request) -> dict:
    """The unread-notification count for the top bar, for moderators the count of posts waiting
    for review, and the draft the member just sent (once: the page's script forgets the
    browser's copy)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_count": 0, "review_count": 0, "draft_sent": ""}
    return {"unread_count": Notification.objects.for_recipient(user).filter(read=False).count(),
            "review_count": Post.objects.filter(needs_review=True).count() if is_moderator(user) else 0,
            "draft_sent": request.session.pop(DRAFT_SENT, "")}
