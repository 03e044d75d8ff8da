"""Guards every app relies on: brute-force lockout, body size, throttles behind proxies, and a
cache that keeps the site up when Redis is not."""
import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.core import signing
from django.core.cache import caches
from django.core.signals import request_finished
from django.test import Client
from django.db import OperationalError
from django.http import StreamingHttpResponse
from django.urls import reverse
from rest_framework.throttling import AnonRateThrottle

from config import asgi as asgi_entry
from core.asgi import ASGIHandler, BodyLimit, Refusal, credentials_required
from models_hub.hf_api import upload
from core.cache import FailOpenRedisCache
from core.services import create_token
from tests.factories import PASSWORD, StaffFactory

BAD = "not-the-password"


def _login(client, username, password, ip="203.0.113.7"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_web_login_locks_the_address_after_five_failures_not_the_account(client, user):
    assert [_login(client, user.username, BAD).status_code for _ in range(4)] == [200] * 4
    assert _login(client, user.username, BAD).status_code == 429
    assert _login(client, user.username, PASSWORD).status_code == 429 and "_auth_user_id" not in client.session
    owner = _login(Client(), user.username, PASSWORD, ip="198.51.100.1")  # the owner, elsewhere
    assert owner.status_code == 302


def test_web_login_locks_the_address_across_accounts(client, user, other_user):
    for _ in range(5):
        _login(client, user.username + "-nobody", BAD)
    assert _login(client, other_user.username, PASSWORD).status_code == 429
    assert _login(client, other_user.username, PASSWORD, ip="198.51.100.1").status_code == 302


def test_admin_login_is_locked_out_too(client, db):
    admin = StaffFactory(is_superuser=True)
    url = reverse("admin:login")
    codes = [client.post(url, {"username": admin.username, "password": BAD}, REMOTE_ADDR="203.0.113.9").status_code
             for _ in range(5)]
    assert codes[-1] == 429


def test_token_endpoint_locks_out_with_a_json_429(api, user):
    url = reverse("api-token")
    for _ in range(5):
        api.post(url, {"username": user.username, "password": BAD}, REMOTE_ADDR="203.0.113.8")
    response = api.post(url, {"username": user.username, "password": PASSWORD}, REMOTE_ADDR="203.0.113.8")
    assert response.status_code == 429 and "Retry-After" in response
    assert "token" not in response.json()


def test_anonymous_throttle_ignores_a_forged_forwarded_for(api, db, monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/min"})
    codes = [api.get("/api/v1/categories/", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code for n in range(4)]
    assert codes == [200, 200, 200, 429]


def test_a_declared_body_over_the_limit_gets_413_before_parsing(as_user, settings):
    settings.MAX_REQUEST_BODY_BYTES = 1000
    body = json.dumps({"title": "x", "body": "y" * 5000, "category": "general"})
    response = as_user.generic("POST", "/api/v1/threads/", body, content_type="application/json")
    assert response.status_code == 413 and "larger than 1000 bytes" in response.json()["detail"]


def _asgi_post(app, chunks: list[bytes], headers: list) -> list[dict]:
    sent: list[dict] = []
    incoming = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]

    async def receive():
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/v1/threads/", "headers": headers}
    with ThreadPoolExecutor(1) as pool:  # a loop of its own, whatever runs in this thread (Playwright's)
        pool.submit(asyncio.run, app(scope, receive, send)).result()
    return sent


async def _drain_app(scope, receive, send):
    """Reads the whole body as Django's handler does, then answers 200."""
    while (await receive())["type"] == "http.request":
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def test_asgi_refuses_a_chunked_body_once_it_passes_the_limit():
    sent = _asgi_post(BodyLimit(_drain_app, max_bytes=100), [b"x" * 60, b"x" * 60, b"x" * 60], headers=[])
    assert sent[0]["status"] == 413


def test_asgi_passes_a_body_within_the_limit():
    sent = _asgi_post(BodyLimit(_drain_app, max_bytes=100), [b"x" * 40, b"x" * 40], headers=[])
    assert sent[0]["status"] == 200


def test_asgi_refuses_a_declared_length_over_the_limit_without_reading():
    sent = _asgi_post(BodyLimit(_drain_app, max_bytes=100), [b"x"], headers=[(b"content-length", b"5000")])
    assert sent[0]["status"] == 413


def _asgi_request(app, *, method: str, path: str, headers: list, body: bytes = b"x") -> tuple[list[dict], list]:
    """What `app` sent, and what of the body it read."""
    sent, read, incoming = [], [], [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        message = incoming.pop(0) if incoming else {"type": "http.disconnect"}
        read.append(message)
        return message

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": headers}
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result()
    return sent, read


def test_a_guard_refuses_before_the_body_is_read():
    refuse = BodyLimit(_drain_app, guard=lambda scope: Refusal(401, "Sign in.", "not_authenticated"))
    sent, read = _asgi_request(refuse, method="PUT", path="/api/models/a/b/commit/main", headers=[])
    assert sent[0]["status"] == 401 and read == []


def test_a_guard_can_lower_the_limit():
    sent = _asgi_post(BodyLimit(_drain_app, max_bytes=100, guard=lambda scope: 10), [b"x" * 20], headers=[])
    assert sent[0]["status"] == 413


def _guarded(headers: list) -> Refusal | None:
    scope = {"method": "POST", "path": "/api/models/acme/m/commit/main", "headers": headers}
    assert asyncio.run(credentials_required({**scope, "path": "/api/v1/threads/"})) is None  # not an upload path
    return asyncio.run(credentials_required(scope))


@pytest.mark.parametrize("headers", [
    [],
    [(b"authorization", b"Bearer llmc_made_up")],
    [(b"authorization", b"Bearer")],
    [(b"cookie", b"csrftoken=a; sessionid=made-up")],
    [(b"cookie", b"csrftoken=a")],
    [(b"cookie", b"sessionid=\"unclosed")],
])
@pytest.mark.django_db(transaction=True)  # the guard reads on a thread of its own
def test_an_upload_without_valid_credentials_is_refused_before_its_body_is_read(headers):
    refusal = _guarded(headers)
    assert isinstance(refusal, Refusal) and refusal.status == 401


def test_reading_an_upload_page_is_for_its_view_to_answer():
    scope = {"method": "GET", "path": "/api/models/acme/m/commit/main", "headers": []}
    assert asyncio.run(credentials_required(scope)) is None


@pytest.mark.django_db(transaction=True)
def test_an_upload_with_a_members_token_goes_on_to_its_view(user):
    key = create_token(user=user, name="hf")[1]
    assert _guarded([(b"authorization", f"Bearer {key}".encode())]) is None


@pytest.mark.django_db(transaction=True)
def test_an_upload_from_a_signed_in_session_goes_on_to_its_view(user):
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert _guarded([(b"cookie", f"csrftoken=a; {settings.SESSION_COOKIE_NAME}={session}".encode())]) is None


def test_an_lfs_upload_is_held_to_its_signed_url_before_its_body_is_read(settings):
    token = signing.dumps({"o": "0" * 64, "s": 5, "u": 1, "r": 1}, salt=upload.LFS_SALT, compress=True)
    assert upload.lfs_upload_guard({"method": "PUT", "path": f"/hub-lfs/{token}/"}) == 5
    assert upload.lfs_upload_guard({"method": "POST", "path": f"/hub-lfs/{token}/verify/"}) is None
    forged = upload.lfs_upload_guard({"method": "PUT", "path": "/hub-lfs/forged/"})
    assert isinstance(forged, Refusal) and forged.status == 403
    big = [(b"content-length", str(6 * 2**30).encode())]
    sent, read = _asgi_request(asgi_entry.application, method="PUT", path="/hub-lfs/forged/", headers=big)
    assert sent[0]["status"] == 403 and read == []  # the deployment's entry point refuses it unread


def test_a_response_whose_stream_raises_is_still_closed():
    finished = []

    async def body():
        yield b"data: 1\n\n"
        raise OperationalError("the database went away")

    def on_finished(**kwargs):
        finished.append(kwargs)

    async def sent(message):
        pass

    request_finished.connect(on_finished)
    try:
        with pytest.raises(OperationalError):
            asyncio.run(ASGIHandler().send_response(StreamingHttpResponse(body()), sent))
    finally:
        request_finished.disconnect(on_finished)
    assert len(finished) == 1  # so Django's close_old_connections gave the request's connection back


DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens there


@pytest.fixture
def dead_redis_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "core.cache.FailOpenRedisCache",
                                   "LOCATION": DEAD_REDIS,
                                   "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}}}
    yield caches["default"]


def test_cache_fails_open_when_redis_is_down(dead_redis_cache):
    assert dead_redis_cache.get("k", "miss") == "miss"
    dead_redis_cache.set("k", "v")
    started = time.monotonic()
    for _ in range(20):  # after one failure Redis is left alone for a while: no timeout per call
        dead_redis_cache.get("k")
    assert time.monotonic() - started < 0.5
    assert dead_redis_cache.get_or_set("k", lambda: "fresh") == "fresh"


def test_a_failure_one_request_saw_leaves_redis_alone_for_the_next(dead_redis_cache):
    dead_redis_cache.get("k")
    # Django builds a cache object per request: the next request's must not try (and wait) again.
    next_request = FailOpenRedisCache(DEAD_REDIS, {"OPTIONS": {"socket_connect_timeout": 0.2}})
    assert not next_request.is_available


def test_api_and_hub_pages_work_with_redis_down(dead_redis_cache, api, client, db):
    assert api.get("/api/v1/categories/").status_code == 200
    assert client.get(reverse("models_hub:index")).status_code == 200


def test_logging_in_again_and_again_rotates_the_oldest_log_in_token(api, user, settings):
    from core.models import ApiToken
    from core.services import create_token

    settings.API_TOKENS_PER_USER = 3
    create_token(user=user, name="laptop")
    keys = [api.post(reverse("api-token"), {"username": user.username, "password": PASSWORD}).json()["token"]
            for _ in range(4)]
    assert len(set(keys)) == 4
    assert ApiToken.objects.filter(user=user).count() == 3
    assert ApiToken.objects.filter(user=user, name="laptop").exists()  # made by hand: kept


def test_a_nul_in_a_query_parameter_is_a_400_not_a_database_error(api, db):
    assert api.get("/api/v1/threads/", {"tag": "a\x00b"}).status_code == 400
    assert api.get("/api/v1/resources/", {"q": "\x00"}).status_code == 400


@pytest.mark.parametrize("path", ["/forum/c/a%00/", "/forum/tag/a%00/", "/u/a%00/", "/leaderboards/a%00/b/",
                                  "/hub/model/ac%00me/m/files/", "/api/v1/users/a%00/", "/v1/models/a%00"])
def test_a_nul_in_the_path_is_a_404_not_a_database_error(client, db, path):
    response = client.get(path)
    assert response.status_code == 404
    if path.startswith("/api/"):
        assert response.json() == {"detail": "Not found."}
    if path.startswith("/v1/"):
        assert response.json()["error"]["code"] == "not_found"
