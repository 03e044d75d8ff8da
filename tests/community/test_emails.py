"""Notification e-mails: sent later if still unread and wanted, once, in the member's language,
with a one-click unsubscribe link."""
import pytest
from django.test import Client

from community import emails, services, tasks
from community.models import Notification, User
from community.notify import notify_member
from tests.conftest import client_for
from tests.factories import UserFactory, make_post, make_thread

pytestmark = pytest.mark.django_db
ZH_MENTIONED = "提到了你"


@pytest.fixture
def alice():
    return UserFactory(username="alice", email="alice@example.com")


def mention(alice, category, **kwargs) -> Notification:
    thread = make_thread(category=category, title="Which LoRA rank?")
    make_post(thread=thread, body="@alice what do you think?", **kwargs)
    return alice.notifications.get(kind="mention")


def test_an_unread_mention_is_emailed_once_with_its_link_and_an_unsubscribe_header(alice, category, mailoutbox,
                                                                                   settings):
    settings.SITE_URL = "https://llm.example.com"
    notification = mention(alice, category)
    assert emails.send_notification_email(notification_id=notification.pk)
    assert not emails.send_notification_email(notification_id=notification.pk)  # once
    [sent] = mailoutbox
    assert sent.to == ["alice@example.com"] and "Which LoRA rank?" in sent.subject
    assert f"https://llm.example.com{notification.get_absolute_url()}" in sent.body
    assert "what do you think?" in sent.body
    assert sent.extra_headers["List-Unsubscribe"].startswith("<https://llm.example.com/accounts/email/unsubscribe/")
    assert sent.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_notification_read_before_the_delay_is_not_emailed(alice, category, mailoutbox):
    notification = mention(alice, category)
    Notification.objects.filter(pk=notification.pk).update(read=True)
    assert not emails.send_notification_email(notification_id=notification.pk) and not mailoutbox


def test_a_member_who_wants_no_emails_gets_none(alice, category, mailoutbox):
    User.objects.filter(pk=alice.pk).update(email_notifications="never")
    assert not emails.send_notification_email(notification_id=mention(alice, category).pk) and not mailoutbox


@pytest.mark.parametrize("choice,emailed", [("direct", False), ("all", True)])
def test_posts_in_watched_threads_are_emailed_only_to_who_asked(alice, category, mailoutbox, choice, emailed):
    User.objects.filter(pk=alice.pk).update(email_notifications=choice)
    thread = make_thread(category=category)
    services.set_watch(user=alice, thread=thread, watching=True)
    make_post(thread=thread, body="news")
    notification = alice.notifications.get(kind="watching")
    assert emails.send_notification_email(notification_id=notification.pk) is emailed


def test_a_post_hidden_since_is_not_emailed(alice, category, staff, mailoutbox):
    notification = mention(alice, category)
    services.review_post(moderator=staff, post=notification.post, keep_hidden=True)
    assert not emails.send_notification_email(notification_id=notification.pk) and not mailoutbox


def test_the_email_is_in_the_language_the_member_last_used(alice, category, mailoutbox):
    User.objects.filter(pk=alice.pk).update(language="zh-hans")
    emails.send_notification_email(notification_id=mention(alice, category).pk)
    assert ZH_MENTIONED in mailoutbox[0].subject and "Read it and reply" not in mailoutbox[0].body


def test_signing_in_remembers_the_language(alice):
    alice.set_password("pw-for-the-test-2026")
    alice.save()
    Client().post("/accounts/login/", {"username": "alice", "password": "pw-for-the-test-2026"},
                  HTTP_ACCEPT_LANGUAGE="zh-hans")
    alice.refresh_from_db()
    assert alice.language == "zh-hans"


def test_a_new_mention_schedules_its_email_after_the_delay(alice, category, settings, monkeypatch,
                                                           django_capture_on_commit_callbacks):
    settings.FORUM_EMAIL_DELAY_S = 600
    queued = []
    monkeypatch.setattr(tasks.email_notification, "apply_async", lambda **kw: queued.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        notification = mention(alice, category)
    assert {"args": [notification.pk], "countdown": 600, "retry": False} in queued
    assert len(queued) == 2  # and the reply to the thread's author


def test_a_broker_outage_loses_the_email_not_the_post(alice, category, monkeypatch,
                                                      django_capture_on_commit_callbacks):
    def down(**kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.email_notification, "apply_async", down)
    with django_capture_on_commit_callbacks(execute=True):
        notification = mention(alice, category)
    assert Notification.objects.filter(pk=notification.pk).exists()


def test_the_unsubscribe_link_asks_then_stops_the_emails(alice):
    url = f"/accounts/email/unsubscribe/{emails.unsubscribe_token(alice)}/"
    client = Client(enforce_csrf_checks=True)  # a mail client's one-click POST carries no CSRF token
    assert 'id="unsubscribed"' not in client.get(url).content.decode()
    alice.refresh_from_db()
    assert alice.email_notifications == "direct"
    assert 'id="unsubscribed"' in client.post(url, {"List-Unsubscribe": "One-Click"}).content.decode()
    alice.refresh_from_db()
    assert alice.email_notifications == "never"


def test_a_forged_unsubscribe_link_is_404(alice):
    assert Client().post(f"/accounts/email/unsubscribe/{alice.pk}/").status_code == 404


def test_the_settings_page_and_the_api_choose_the_emails(alice, client):
    client.force_login(alice)
    client.post("/accounts/settings/", {"action": "profile", "display_name": "", "email": alice.email, "bio": "",
                                        "email_notifications": "all"})
    alice.refresh_from_db()
    assert alice.email_notifications == "all"
    api = client_for(alice)
    response = api.patch("/api/v1/me/", {"email_notifications": "sometimes"}, format="json")
    assert response.status_code == 400 and "email_notifications" in response.json()
    assert api.patch("/api/v1/me/", {"email_notifications": "never"}, format="json").json()["email_notifications"] == "never"


def test_a_job_notification_is_listed_and_emailed(alice, client, mailoutbox):
    notification = notify_member(recipient_id=alice.pk, kind="finetune_done", subject="alice/pairs-lora",
                                 link="/finetune/7/")
    client.force_login(alice)
    page = client.get("/forum/notifications/").content.decode()
    assert 'href="/finetune/7/"' in page and "alice/pairs-lora" in page and "Your fine-tune finished" in page
    [item] = client_for(alice).get("/api/v1/notifications/").json()["results"]
    assert (item["kind"], item["url"], item["subject"], item["actor"], item["thread_title"]) == (
        "finetune_done", "/finetune/7/", "alice/pairs-lora", None, None)
    Notification.objects.filter(pk=notification.pk).update(read=False)
    assert emails.send_notification_email(notification_id=notification.pk)
    assert "alice/pairs-lora" in mailoutbox[0].subject and "/finetune/7/" in mailoutbox[0].body


def test_the_subject_is_plain_text_not_html(alice, category, mailoutbox):
    thread = make_thread(category=category, title="Can't load <Qwen> & LoRA")
    make_post(thread=thread, body="@alice any idea?")
    emails.send_notification_email(notification_id=alice.notifications.get(kind="mention").pk)
    assert "Can't load <Qwen> & LoRA" in mailoutbox[0].subject
