from .models import Notification


def navigation(request) -> dict:
    """The unread-notification count for the top bar."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_count": 0}
    return {"unread_count": Notification.objects.for_recipient(user).filter(read=False).count()}
