import re

import pytest
from django.db import IntegrityError, connection
from django.test import Client
from django.urls import reverse

from community.models import Post, Thread, User
from core.models import ApiToken
from tests.conftest import client_for
from tests.factories import PASSWORD, make_post, make_thread

pytestmark = pytest.mark.django_db


def test_signup_creates_the_account_and_signs_in(client):
    response = client.post("/accounts/signup/", {"username": "newbie", "email": "n@example.com",
                                                 "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302
    assert User.objects.filter(username="newbie").exists()
    assert client.get("/api/v1/me/").json()["username"] == "newbie"


def test_signup_waits_for_the_address_to_be_confirmed(client, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/signup/", {"username": "newbie", "email": "n@example.com",
                                          "password1": PASSWORD, "password2": PASSWORD})
    user = User.objects.get(username="newbie")
    assert (user.email, user.pending_email) == ("", "n@example.com")
    [sent] = mailoutbox
    assert sent.to == ["n@example.com"]
    link = re.search(r"http://testserver(/accounts/email/confirm/[^/\s]+/)", sent.body).group(1)
    client.post(link)
    user.refresh_from_db()
    assert (user.email, user.pending_email) == ("n@example.com", "")


def test_an_unconfirmed_address_gets_no_password_reset(client, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/signup/", {"username": "newbie", "email": "victim@example.com",
                                          "password1": PASSWORD, "password2": PASSWORD})
    mailoutbox.clear()
    Client().post("/accounts/password_reset/", {"email": "victim@example.com"})
    assert not mailoutbox


def test_signup_with_mismatched_passwords_keeps_the_input_and_says_why(client):
    response = client.post("/accounts/signup/", {"username": "newbie", "email": "n@example.com",
                                                 "password1": PASSWORD, "password2": "other"})
    assert response.status_code == 200
    assert b'value="newbie"' in response.content
    assert b'class="error"' in response.content
    assert not User.objects.filter(username="newbie").exists()


def test_login_and_logout(client, user):
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/api/v1/me/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/api/v1/me/").status_code == 401


def test_login_ignores_the_usernames_case(client, user):
    response = client.post("/accounts/login/", {"username": user.username.upper(), "password": PASSWORD})
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(user.pk)


def test_two_usernames_cannot_differ_only_in_case(user):
    with pytest.raises(IntegrityError):
        User.objects.create(username=user.username.upper())


def test_a_profile_is_found_however_its_name_is_capitalised(client, user):
    assert client.get(f"/u/{user.username.upper()}/").status_code == 200


def test_logout_by_get_is_refused(client, user):
    client.force_login(user)
    assert client.get("/accounts/logout/").status_code == 405


def test_me_requires_credentials(api):
    assert api.get("/api/v1/me/").status_code == 401


def test_api_token_from_password(api, user):
    response = api.post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}, format="json")
    assert response.status_code == 200
    key = response.json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/me/").json()["username"] == user.username


def test_api_token_with_wrong_password_is_400(api, user):
    response = api.post("/api/v1/auth/token/", {"username": user.username, "password": "nope"}, format="json")
    assert response.status_code == 400


@pytest.mark.parametrize("scheme", ["Token", "Bearer"])
def test_both_authorization_schemes_work(api, user, scheme):
    _token, key = __import__("core.services", fromlist=["x"]).create_token(user=user, name="t")
    api.credentials(HTTP_AUTHORIZATION=f"{scheme} {key}")
    assert api.get("/api/v1/me/").status_code == 200


def test_only_the_token_hash_is_stored(user):
    from core.services import create_token

    token, key = create_token(user=user, name="laptop")
    assert key not in {token.key_hash, token.prefix}
    assert not ApiToken.objects.filter(key_hash=key).exists()


def test_settings_page_creates_shows_once_and_revokes_a_token(client, user):
    client.force_login(user)
    response = client.post("/accounts/settings/", {"action": "create_token", "name": "script"})
    key = response.context["new_key"]
    assert key.encode() in response.content
    assert key.encode() not in client.get("/accounts/settings/").content  # shown once
    api = client_for(None)
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/me/").status_code == 200
    token = user.api_tokens.get(name="script")
    client.post("/accounts/settings/", {"action": "revoke_token", "token": token.pk})
    assert api.get("/api/v1/me/").status_code == 401


def test_profile_page_and_user_api(client, user):
    assert client.get(f"/u/{user.username}/").status_code == 200
    data = client.get(f"/api/v1/users/{user.username}/").json()
    assert set(data) >= {"username", "display_name", "bio", "date_joined", "reputation", "thread_count", "post_count"}


def test_a_deactivated_members_profile_is_still_there_and_says_so(client, user, category):
    make_thread(category=category, author=user, title="Before I left")
    User.objects.filter(pk=user.pk).update(is_active=False)
    page = client.get(f"/u/{user.username}/").content.decode()
    assert 'id="profile-inactive"' in page and "Before I left" in page
    assert client.get(f"/api/v1/users/{user.username}/").json()["is_active"] is False


def test_profile_counts_are_exact_for_a_member_with_many_threads_and_replies(user, category):
    threads = [make_thread(category=category, author=user) for _ in range(3)]
    Thread.objects.filter(pk=threads[2].pk).update(is_hidden=True)
    for thread in threads[:2]:
        make_post(thread=thread, author=user)
        make_post(thread=thread, author=user)
    Post.objects.filter(pk=make_post(thread=threads[0], author=user).pk).update(is_hidden=True)
    counted = User.objects.with_counts().get(pk=user.pk)
    assert (counted.thread_count, counted.post_count, counted.reply_count) == (2, 6, 4)


def test_settings_page_edits_the_profile(client, user):
    client.force_login(user)
    client.post("/accounts/settings/", {"action": "profile", "display_name": "Ada", "email": user.email, "bio": "hi"})
    user.refresh_from_db()
    assert user.display_name == "Ada"


def test_password_reset_sends_mail(client, user, mailoutbox):
    client.post("/accounts/password_reset/", {"email": user.email})
    assert len(mailoutbox) == 1


def test_accept_language_serves_chinese(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert '<html lang="zh-hans">' in response.content.decode()
    assert "论坛" in response.content.decode()


def test_language_switch_sticks(client):
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    page = client.get("/forum/").content.decode()
    assert "论坛" in page and '<html lang="zh-hans">' in page
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert '<html lang="en">' in client.get("/forum/").content.decode()


@pytest.mark.parametrize("path", ["/api/v1/threads/", "/api/v1/resources/", "/api/v1/playground/jobs/",
                                  "/api/v1/auth/token/"])
def test_malformed_json_is_a_400_not_a_500(as_user, path):
    response = as_user.post(path, data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()


@pytest.mark.parametrize("path", ["/api/v1/threads/", "/api/v1/playground/jobs/", "/api/v1/auth/token/"])
def test_json_nested_past_the_recursion_limit_is_a_400_not_a_500(as_user, path):
    response = as_user.post(path, data="[" * 100_000, content_type="application/json")
    assert response.status_code == 400 and "nested" in response.json()["detail"]


def test_every_main_page_answers(client, category):
    for path in ["/", "/forum/", "/hub/", "/playground/", "/api/docs/", "/api/schema/", "/accounts/login/",
                 "/accounts/signup/"]:
        assert client.get(path).status_code == 200, path


def signup(client, next_url, **extra):
    return client.post(f"/accounts/signup/?next={next_url}", {
        "username": "newbie", "email": "n@example.com", "password1": PASSWORD, "password2": PASSWORD}, **extra)


@pytest.mark.parametrize("next_url", ["https://elsewhere.example/", "//elsewhere.example/", "javascript:alert(1)",
                                      "/\\elsewhere.example/"])
def test_signup_does_not_follow_next_off_the_site(client, next_url):
    from urllib.parse import quote

    response = signup(client, quote(next_url, safe=""))
    assert response.status_code == 302 and response["Location"] == "/"


def test_signup_follows_next_on_the_site(client):
    assert signup(client, "/forum/")["Location"] == "/forum/"


def test_signup_over_https_does_not_follow_next_to_plain_http(client):
    response = signup(client, "http%3A//testserver/forum/", secure=True)
    assert response["Location"] == "/"


def test_the_user_api_finds_a_member_however_the_name_is_capitalised(api, user):
    assert api.get(f"/api/v1/users/{user.username.upper()}/").json()["username"] == user.username


def test_a_username_lookup_ignoring_case_is_answered_by_the_lower_index(user):
    query = User.objects.filter(username__lower_exact=user.username.upper())
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a table this small would be scanned anyway
        sql, params = query.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert "username_unique_ignoring_case" in plan and list(query) == [user]
