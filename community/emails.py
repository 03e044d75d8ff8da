"""Notifications by e-mail: one a while after a notification is made, if it is still unread then
and the member asked for that kind (User.email_notifications), in the language they last used.

Sent by a worker (`tasks.email_notification`, scheduled by `tasks.schedule_emails` once the
post's transaction commits), so a slow or failing mail server never slows a post, and a broker
outage loses only the e-mail.
Each notification is e-mailed at most once (`emailed_at`, set by one conditional UPDATE). Every
e-mail carries a one-click unsubscribe link (RFC 8058) that needs no sign-in."""
from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from core.i18n import in_language_of

from .models import EmailNotifications, Notification, Post, User

UNSUBSCRIBE_SALT = "community.emails.unsubscribe"
EXCERPT_CHARS = 1500
_DIRECT = {Notification.Kind.MENTION, Notification.Kind.REPLY, Notification.Kind.ACCEPTED,
           Notification.Kind.POST_HIDDEN, Notification.Kind.POST_RESTORED, Notification.Kind.FLAGGED_HIDDEN,
           Notification.Kind.FINETUNE_DONE, Notification.Kind.FINETUNE_FAILED,
           Notification.Kind.EVALUATION_DONE, Notification.Kind.EVALUATION_FAILED}
KINDS = {  # which kinds each preference e-mails
    EmailNotifications.DIRECT: _DIRECT,
    EmailNotifications.ALL: _DIRECT | {Notification.Kind.WATCHING, Notification.Kind.NEW_THREAD},
    EmailNotifications.NEVER: set(),
}


def wanted_kinds() -> set[str]:
    """The kinds any preference e-mails (the others are not even scheduled)."""
    return KINDS[EmailNotifications.ALL]


def unsubscribe_token(user: User) -> str:
    return signing.dumps(user.pk, salt=UNSUBSCRIBE_SALT)


def user_for_token(token: str) -> User | None:
    try:
        return User.objects.filter(pk=signing.loads(token, salt=UNSUBSCRIBE_SALT)).first()
    except signing.BadSignature:
        return None


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def send_notification_email(*, notification_id: int) -> bool:
    """E-mail the notification if it is still wanted: unread, of a kind its recipient asked for,
    about a post they may still read, and not e-mailed yet. True when one was sent."""
    notification = (Notification.objects.select_related("recipient", "actor", "thread", "post")
                    .filter(pk=notification_id, read=False, emailed_at__isnull=True).first())
    if notification is None:
        return False
    recipient = notification.recipient
    if (not recipient.is_active or not recipient.email
            or notification.kind not in KINDS[recipient.email_notifications]
            or (notification.is_about_a_post
                and not Post.objects.visible_to(recipient).filter(pk=notification.post_id).exists())):
        return False
    if not Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(emailed_at=timezone.now()):
        return False  # another worker took it
    unsubscribe = _absolute(reverse("email-unsubscribe", args=[unsubscribe_token(recipient)]))
    with in_language_of(recipient):
        about_a_post = notification.is_about_a_post
        context = {"notification": notification, "verb": notification.get_kind_display(),
                   "actor": notification.actor.shown_name if notification.actor_id else "",
                   "title": notification.thread.title if about_a_post else notification.subject,
                   "excerpt": _excerpt(notification.post.body) if about_a_post else "",
                   "url": _absolute(notification.get_absolute_url()),
                   "settings_url": _absolute(reverse("settings")), "unsubscribe_url": unsubscribe}
        subject = render_to_string("community/email/notification_subject.txt", context).strip()
        body = render_to_string("community/email/notification.txt", context)
    message = EmailMessage(subject=" ".join(subject.split()), body=body, to=[recipient.email], headers={
        "List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Auto-Submitted": "auto-generated"})
    message.send()
    return True


def _excerpt(body: str) -> str:
    body = body.strip()
    return body if len(body) <= EXCERPT_CHARS else body[:EXCERPT_CHARS].rstrip() + "…"


def send_suspension_email(member: User) -> None:
    """Tell a suspended member until when and why, in their language."""
    if not member.email:
        return
    with in_language_of(member):
        body = render_to_string("community/email/suspended.txt", {"member": member})
        subject = translation.gettext("Your account is suspended")
    EmailMessage(subject=subject, body=body, to=[member.email], headers={"Auto-Submitted": "auto-generated"}).send()
