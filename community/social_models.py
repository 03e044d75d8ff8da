"""What ties members to threads: notifications, watches and bookmarks."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    class Kind(models.TextChoices):
        REPLY = "reply", _("replied")
        MENTION = "mention", _("mentioned you")
        ACCEPTED = "accepted", _("accepted your answer")
        VOTE = "vote", _("upvoted your post")
        WATCHING = "watching", _("posted in a thread you watch")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    thread = models.ForeignKey("community.Thread", on_delete=models.CASCADE, related_name="+")
    post = models.ForeignKey("community.Post", on_delete=models.CASCADE, related_name="+")
    read = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read"])]
        constraints = [
            # One notification per recipient, event kind and post: a post mentioning @x three
            # times, or a vote changed back and forth, still notifies once.
            models.UniqueConstraint(
                fields=["recipient", "actor", "kind", "post"], name="notification_once"
            ),
            models.CheckConstraint(
                condition=~Q(recipient=models.F("actor")), name="notification_not_self"
            ),
        ]

    def get_absolute_url(self) -> str:
        return self.post.get_absolute_url()


class Watch(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    thread = models.ForeignKey("community.Thread", on_delete=models.CASCADE, related_name="watches")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "thread"], name="watch_once")]


class Bookmark(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bookmarks"
    )
    thread = models.ForeignKey("community.Thread", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "thread"], name="bookmark_once")]
