"""The admin acts through the forum's services and never writes back a stale counter."""
import pytest
from django.db.models import F
from django.test import Client
from django.urls import reverse

from community.models import Category, Post, Thread
from tests.factories import UserFactory, make_post, make_thread


@pytest.fixture
def superuser(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def test_hiding_a_reply_in_the_admin_takes_it_off_the_reply_count(admin_client, category):
    thread = make_thread(category=category)
    reply = make_post(thread=thread)
    response = admin_client.post(reverse("admin:community_post_changelist"),
                                 {"action": "hide_posts", "_selected_action": [reply.pk]})
    assert response.status_code == 302
    thread.refresh_from_db()
    assert Post.objects.get(pk=reply.pk).is_hidden and thread.reply_count == 0


def test_hiding_a_thread_in_the_admin_hides_it_from_members(admin_client, category):
    thread = make_thread(category=category)
    admin_client.post(reverse("admin:community_thread_changelist"),
                      {"action": "hide_threads", "_selected_action": [thread.pk]})
    assert Thread.objects.get(pk=thread.pk).is_hidden
    assert Client().get(thread.get_absolute_url()).status_code == 404


def test_a_post_change_page_offers_no_field_to_edit(admin_client, category):
    reply = make_post(thread=make_thread(category=category), body="as written")
    page = admin_client.get(reverse("admin:community_post_change", args=[reply.pk])).content.decode()
    assert 'name="body"' not in page and 'name="is_hidden"' not in page and "as written" in page


def test_saving_a_category_in_the_admin_keeps_a_count_moved_meanwhile(admin_client):
    category = Category.objects.create(slug="training", name="Training", thread_count=3)
    Category.objects.filter(pk=category.pk).update(thread_count=F("thread_count") + 1)  # a thread posted meanwhile
    response = admin_client.post(reverse("admin:community_category_change", args=[category.pk]),
                                 {"slug": "training", "name": "Training & tuning", "name_zh": "训练",
                                  "description": "", "description_zh": "", "position": 0})
    assert response.status_code == 302
    category.refresh_from_db()
    assert (category.name, category.thread_count) == ("Training & tuning", 4)
