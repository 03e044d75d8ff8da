"""Bad input found by fuzzing gets a 4xx that says what was wrong, never a 500."""
import pytest
from django.urls import reverse

from community.models import Category, Notification
from core.services import create_token
from tests.conftest import client_for
from tests.factories import make_post, make_thread

pytestmark = pytest.mark.django_db

NOT_IDS = ["abc", "²", "-1", "0", "1.5", str(2**63), "9" * 30]


def test_deleting_a_category_with_threads_is_409(as_staff, category):
    make_thread(category=category)
    response = as_staff.delete(f"/api/v1/categories/{category.pk}/")
    assert response.status_code == 409 and "threads" in response.json()["detail"]
    assert Category.objects.filter(pk=category.pk).exists()


def test_deleting_an_empty_category_works(as_staff, category):
    assert as_staff.delete(f"/api/v1/categories/{category.pk}/").status_code == 204


@pytest.mark.parametrize("ids", [[2**63], [2**70], [0], list(range(1, 102))])
def test_mark_read_with_ids_out_of_range_is_400_naming_ids(as_user, ids):
    response = as_user.post("/api/v1/notifications/read/", {"ids": ids}, format="json")
    assert response.status_code == 400 and "ids" in response.json()


def test_mark_read_with_ids_marks_only_those(user, category):
    thread = make_thread(author=user, category=category)
    first, second = make_post(thread=thread), make_post(thread=thread)
    note = Notification.objects.get(post=first)
    client_for(user).post("/api/v1/notifications/read/", {"ids": [note.pk]}, format="json")
    assert list(user.notifications.filter(read=False).values_list("post", flat=True)) == [second.pk]


@pytest.mark.parametrize("value", NOT_IDS)
def test_thread_page_ignores_a_post_parameter_that_is_not_an_id(client, category, value):
    thread = make_thread(category=category, body="still here")
    response = client.get(thread.get_absolute_url(), {"post": value})
    assert response.status_code == 200 and "still here" in response.content.decode()


@pytest.mark.parametrize("value", NOT_IDS)
def test_revoking_a_token_that_is_not_an_id_is_400(client, user, value):
    create_token(user=user, name="kept")
    client.force_login(user)
    assert client.post("/accounts/settings/", {"action": "revoke_token", "token": value}).status_code == 400
    assert user.api_tokens.count() == 1


@pytest.mark.parametrize("value", NOT_IDS)
def test_accepting_a_post_that_is_not_an_id_is_400(client, user, category, value):
    thread = make_thread(author=user, category=category, kind="question")
    client.force_login(user)
    assert client.post(reverse("community:accept", args=[thread.pk]), {"post": value}).status_code == 400


@pytest.mark.parametrize("value", NOT_IDS)
def test_reviewing_a_post_that_is_not_an_id_is_400(client, staff, value):
    client.force_login(staff)
    assert client.post(reverse("community:review"), {"post": value, "decision": "hide"}).status_code == 400


@pytest.mark.parametrize("page", ["abc", "1e999", "9" * 5000])
@pytest.mark.parametrize("path", ["/forum/", "/forum/c/general/", "/forum/notifications/", "/forum/review/",
                                  "/api/v1/threads/", "/api/v1/notifications/", "/api/v1/search/?q=x"])
def test_pages_shrug_off_a_garbage_page_parameter(client, staff, category, path, page):
    """A guard: Django's and DRF's paginators already turn these into a page or a 404."""
    client.force_login(staff)
    client.raise_request_exception = False
    separator = "&" if "?" in path else "?"
    assert client.get(f"{path}{separator}page={page}&page_size={page}").status_code < 500


def test_a_category_slug_holding_a_nul_is_a_400_not_a_500(as_user):
    response = as_user.post("/api/v1/threads/", {"category": "a\x00b", "title": "A fine title", "body": "Body"},
                            format="json")
    assert response.status_code == 400 and "category" in response.json()
