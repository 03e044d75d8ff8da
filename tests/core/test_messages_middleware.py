"""Messages are built only for the requests that use them (core.middleware.LazyMessageMiddleware)."""
import pytest
from django.urls import reverse
from django.utils.functional import empty

from core.services import create_token

pytestmark = pytest.mark.django_db


def test_a_message_added_before_a_redirect_shows_on_the_next_page(client, user):
    token, _key = create_token(user=user, name="laptop")
    client.force_login(user)
    response = client.post(reverse("settings"), {"action": "revoke_token", "token": token.pk}, follow=True)
    assert "Token revoked." in response.content.decode()
    # Shown once: the next page has it no more.
    assert "Token revoked." not in client.get(reverse("settings")).content.decode()


def test_an_api_request_builds_no_message_storage(client, user):
    client.force_login(user)
    response = client.get("/api/v1/categories/")
    assert response.status_code == 200
    assert response.wsgi_request._messages._wrapped is empty  # a lazy object, never built
    assert "messages" not in response.cookies
