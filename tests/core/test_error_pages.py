"""Errors are the site's own pages, in the reader's language, saying what happened."""
import pytest
from django.test import Client, RequestFactory
from django.utils import translation
from django.views.defaults import server_error

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def not_debug(settings):
    settings.DEBUG = False  # debug mode shows Django's technical pages instead


@pytest.mark.parametrize("language,title", [("en", "Page not found"), ("zh-hans", "页面不存在")])
def test_a_missing_page_is_the_sites_404_in_the_readers_language(client, language, title):
    response = client.get("/no/such/page/", HTTP_ACCEPT_LANGUAGE=language)
    page = response.content.decode()
    assert response.status_code == 404
    assert f"<h1>{title}</h1>" in page and 'class="mainnav"' in page  # the site around it


def test_a_member_on_a_moderators_page_is_told_why(client, user):
    client.force_login(user)
    response = client.get("/forum/review/")
    assert response.status_code == 403
    assert "This page is for moderators." in response.content.decode()


def test_a_visitor_on_a_moderators_page_is_asked_to_sign_in(client):
    response = client.get("/playground/review/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_refused_form_says_it_expired_not_csrf(user):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": user.username, "password": "x"})
    page = response.content.decode()
    assert response.status_code == 403 and "This form has expired" in page and "CSRF" not in page


def test_a_server_error_page_needs_no_request_context():
    with translation.override("zh-hans"):
        response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500 and "服务器出错了" in response.content.decode()
