"""The forum's background work: notification e-mails (see emails.py)."""
from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction

from .emails import send_notification_email, wanted_kinds
from .models import Notification

log = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def email_notification(notification_id: int) -> None:
    send_notification_email(notification_id=notification_id)


def schedule_emails(notifications: list[Notification]) -> None:
    """Once the transaction commits, queue each notification's e-mail to go FORUM_EMAIL_DELAY_S
    later (it is sent then only if still unread and wanted)."""
    ids = [n.pk for n in notifications if n.pk is not None and n.kind in wanted_kinds()]
    if not ids:
        return

    def send_later() -> None:
        for pk in ids:
            try:
                email_notification.apply_async(args=[pk], countdown=settings.FORUM_EMAIL_DELAY_S, retry=False)
            except Exception:  # the broker is down: the notification is still on the site
                log.warning("could not queue the e-mail of notification %s", pk, exc_info=True)
                return

    transaction.on_commit(send_later)
