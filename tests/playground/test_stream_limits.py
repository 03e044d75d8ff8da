"""Event streams are bounded: a few per client at once, a maximum duration, and a polite poll."""
import asyncio
import gc
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.core.cache import cache
from django.test import AsyncClient, Client

from core.services import create_token
from core import eventlog as core_eventlog
from core import slots
from playground import eventlog, events, openai_api, services, stream_slots
from playground.models import GenerationJob
from tests.factories import runnable_model
from tests.playground.conftest import read_stream

pytestmark = pytest.mark.django_db


def make_job(user, **fields):
    return GenerationJob.objects.create(user=user, resource=runnable_model(), mode="completion", prompt="Once",
                                        params={}, **{"status": "succeeded", "output": "upon a time", **fields})


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- what is not a stream reader -----------------------------------------------------------------
@pytest.mark.parametrize("headers", [{"HTTP_SEC_FETCH_DEST": "image"},
                                     {"HTTP_ACCEPT": "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"}])
def test_a_pages_image_pointed_at_a_stream_takes_no_slot(user, settings, headers):
    settings.PLAYGROUND_MAX_STREAMS_PER_CLIENT = 1
    job = make_job(user)
    client, url = signed_in(user), f"/api/v1/playground/jobs/{job.pk}/stream/"
    assert client.get(url, **headers).status_code == 406
    response = client.get(url, HTTP_ACCEPT="text/event-stream", HTTP_SEC_FETCH_DEST="empty")
    assert response.status_code == 200  # the one slot is still free for the member's own reader
    read_stream(response)


# --- concurrent streams per client ---------------------------------------------------------------
def test_a_member_holds_at_most_n_streams_and_a_finished_stream_frees_its_slot(user, settings):
    settings.PLAYGROUND_MAX_STREAMS_PER_CLIENT = 2
    job = make_job(user)
    client, url = signed_in(user), f"/api/v1/playground/jobs/{job.pk}/stream/"
    first, second = client.get(url), client.get(url)
    assert first.status_code == second.status_code == 200
    refused = client.get(url)
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert "event: done" in read_stream(first)  # the stream ended: its slot is free again
    third = client.get(url)
    assert third.status_code == 200
    assert client.get(url).status_code == 429
    read_stream(second), read_stream(third)


def test_the_cap_counts_the_member_across_api_keys_and_the_session(user, settings):
    settings.PLAYGROUND_MAX_STREAMS_PER_CLIENT = 1
    job = make_job(user)
    _token, key = create_token(user=user, name="k")
    held = signed_in(user).get(f"/api/v1/playground/jobs/{job.pk}/stream/")
    assert held.status_code == 200
    by_key = Client(HTTP_AUTHORIZATION=f"Token {key}").get(f"/api/v1/playground/jobs/{job.pk}/stream/")
    assert by_key.status_code == 429
    read_stream(held)


def test_anonymous_share_viewers_are_counted_per_ip(user, settings):
    settings.PLAYGROUND_MAX_STREAMS_PER_CLIENT = 2
    job = make_job(user)
    services.set_public(user=user, job=job, public=True)
    url = f"/api/v1/playground/shared/{job.share_token}/stream/"
    held = [Client(REMOTE_ADDR="203.0.113.7").get(url) for _ in range(2)]
    assert [r.status_code for r in held] == [200, 200]
    assert Client(REMOTE_ADDR="203.0.113.7").get(url).status_code == 429
    other_ip = Client(REMOTE_ADDR="198.51.100.1").get(url)
    assert other_ip.status_code == 200
    for response in (*held, other_ip):
        read_stream(response)


def test_anonymous_viewers_from_one_ipv6_network_share_its_slots(user, settings):
    settings.PLAYGROUND_MAX_STREAMS_PER_CLIENT = 1
    job = make_job(user)
    services.set_public(user=user, job=job, public=True)
    url = f"/api/v1/playground/shared/{job.share_token}/stream/"
    held = Client(REMOTE_ADDR="2001:db8:1:2::10").get(url)
    assert held.status_code == 200
    assert Client(REMOTE_ADDR="2001:db8:1:2:ffff::99").get(url).status_code == 429  # the same /64
    elsewhere = Client(REMOTE_ADDR="2001:db8:1:3::10").get(url)
    assert elsewhere.status_code == 200
    read_stream(held), read_stream(elsewhere)


def test_stream_clients_are_told_apart_by_account_or_network():
    anonymous = SimpleNamespace(is_authenticated=False)
    at = lambda address: slots.client_id(SimpleNamespace(META={"REMOTE_ADDR": address}), anonymous)  # noqa: E731
    assert at("203.0.113.7") == "ip:203.0.113.7"
    assert at("::ffff:203.0.113.7") == "ip:203.0.113.7"  # IPv4 through an IPv6 socket
    assert at("2001:db8::1") == at("2001:db8::2") == "ip:2001:db8::"
    assert at("not an address") == at("") == "ip:unknown"
    assert slots.client_id(None, SimpleNamespace(is_authenticated=True, pk=7)) == "user:7"


def stream_then_leave(job, key: str, *, send, leave: asyncio.Event, post: dict | None = None) -> None:
    """GET the job's stream (or POST `post` to submit one with its stream) through the ASGI app,
    as a server runs it, on an event loop of its own; the client disconnects once `leave` is set.
    The loop runs on a moment after the request ends, as a server's does."""
    from config.asgi import application

    async def request():
        body = json.dumps(post).encode() if post is not None else b""
        requests = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive():
            if requests:
                return requests.pop()
            await leave.wait()
            return {"type": "http.disconnect"}

        path = "/api/v1/playground/jobs/" if post is not None else f"/api/v1/playground/jobs/{job.pk}/stream/"
        headers = [(b"authorization", f"Token {key}".encode()), (b"content-type", b"application/json"),
                   (b"content-length", str(len(body)).encode())]
        scope = {"type": "http", "method": "POST" if post is not None else "GET", "path": path,
                 "query_string": b"", "headers": headers,
                 "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 5000)}
        await application(scope, receive, send)
        assert leave.is_set()
        await asyncio.sleep(0.5)

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, request()).result()


@pytest.mark.django_db(transaction=True)  # the ASGI app runs the request in a thread of its own
def test_a_client_that_leaves_on_the_final_event_frees_its_slot(user, settings, monkeypatch):
    """The client disconnects as soon as it has the `done` event, while the stream is still
    releasing its slot (made slow here)."""
    settings.PLAYGROUND_MAX_STREAMS_PER_CLIENT = 1
    job = make_job(user)
    _token, key = create_token(user=user, name="k")
    release = slots.release

    async def slow_release(slot):
        await asyncio.sleep(0.2)
        await release(slot)

    monkeypatch.setattr(slots, "release", slow_release)
    done = asyncio.Event()

    async def send(message):
        if b"event: done" in message.get("body", b""):
            done.set()

    stream_then_leave(job, key, send=send, leave=done)
    again = Client(HTTP_AUTHORIZATION=f"Token {key}").get(f"/api/v1/playground/jobs/{job.pk}/stream/")
    assert again.status_code == 200
    read_stream(again)


@pytest.mark.django_db(transaction=True)
def test_a_client_that_leaves_before_the_first_event_frees_its_slot_at_once(user, settings):
    """The client goes while the response's headers are on their way: the stream's body is never
    read, so the stream never starts; the response, closed unread, gives its slot back."""
    settings.PLAYGROUND_MAX_STREAMS_PER_CLIENT = 1
    job = make_job(user)
    _token, key = create_token(user=user, name="k")
    started = asyncio.Event()

    async def send(message):
        assert message["type"] == "http.response.start" and message["status"] == 200
        started.set()
        await asyncio.Event().wait()  # the connection is gone: this send never completes

    stream_then_leave(job, key, send=send, leave=started)
    again = Client(HTTP_AUTHORIZATION=f"Token {key}").get(f"/api/v1/playground/jobs/{job.pk}/stream/")
    assert again.status_code == 200
    read_stream(again)


class LeavesDuringTheView:
    """The client's disconnect, set from the view's thread."""

    def __init__(self) -> None:
        self.gone = threading.Event()

    def is_set(self) -> bool:
        return self.gone.is_set()

    async def wait(self) -> None:
        while not self.gone.is_set():
            await asyncio.sleep(0.01)


@pytest.mark.django_db(transaction=True)
def test_a_client_that_leaves_while_its_job_is_submitted_frees_its_slot(user, settings, monkeypatch):
    """The client goes while the view still submits (`"stream": true`): the job is queued, and
    the response that held the slot, never returned, gives it back when it is dropped."""
    settings.PLAYGROUND_MAX_STREAMS_PER_CLIENT = 1
    job = make_job(user)
    _token, key = create_token(user=user, name="k")
    leave, submit_job = LeavesDuringTheView(), services.submit_job

    def submit_then_lose_the_client(**kwargs):
        submitted = submit_job(**kwargs)
        leave.gone.set()
        time.sleep(0.5)  # the server notices the disconnect before the view returns
        return submitted

    monkeypatch.setattr(services, "submit_job", submit_then_lose_the_client)

    sent = []

    async def send(message):
        sent.append(message)

    submit = {"model": job.resource.repo_id, "mode": "completion", "prompt": "Once", "stream": True}
    stream_then_leave(job, key, send=send, leave=leave, post=submit)
    assert sent == []  # the client had gone before the response
    slot = f"playground:sse:user:{user.pk}:0"
    for _ in range(100):  # the view's thread goes on after the request has ended: the job, then the response
        gc.collect()
        if GenerationJob.objects.count() == 2 and cache.get(slot) is None:
            break
        time.sleep(0.05)
    assert GenerationJob.objects.count() == 2  # the job was submitted: its stream's slot was taken
    again = Client(HTTP_AUTHORIZATION=f"Token {key}").get(f"/api/v1/playground/jobs/{job.pk}/stream/")
    assert again.status_code == 200
    read_stream(again)


def test_a_stream_response_that_never_started_gives_its_slot_back_once():
    slot = stream_slots.STREAMS.take("user:test")
    response = stream_slots.slot_stream(slot, lambda: nothing())
    response.close()
    taken_again = stream_slots.STREAMS.take("user:test")
    assert taken_again == slot
    del response
    gc.collect()  # the dropped response must not give back the slot now held by another stream
    assert cache.get(slot) is not None
    slots.release_now(slot)


async def nothing():
    return
    yield


@pytest.mark.django_db(transaction=True)
def test_a_stream_that_has_started_holds_its_slot_past_the_grace(user, settings, monkeypatch):
    settings.PLAYGROUND_MAX_STREAMS_PER_CLIENT = 1
    settings.PLAYGROUND_STREAM_MAX_S = 3
    monkeypatch.setattr(slots, "SLOT_GRACE_S", 1)
    job = make_job(user, status="queued", output="")
    _token, key = create_token(user=user, name="k")
    url = f"/api/v1/playground/jobs/{job.pk}/stream/"

    async def read_while_another_asks():
        client, auth = AsyncClient(), {"Authorization": f"Token {key}"}
        held = await client.get(url, headers=auth)
        assert held.status_code == 200, held.content
        reading = asyncio.ensure_future(anext(aiter(held.streaming_content)))
        await asyncio.sleep(1.5)
        try:
            return (await client.get(url, headers=auth)).status_code
        finally:
            reading.cancel()

    assert async_to_sync(read_while_another_asks)() == 429


def test_streams_still_work_when_the_cache_is_down(user, settings, monkeypatch):
    settings.PLAYGROUND_MAX_STREAMS_PER_CLIENT = 1
    job = make_job(user)

    class DownCache:  # a cache that raises
        def add(self, *args, **kwargs):
            raise ConnectionError("cache down")

        def delete(self, *args, **kwargs):
            raise ConnectionError("cache down")

    monkeypatch.setattr(slots, "cache", DownCache())
    client = signed_in(user)
    responses = [client.get(f"/api/v1/playground/jobs/{job.pk}/stream/") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]  # fail open
    assert all("event: done" in read_stream(r) for r in responses)


def test_streams_still_work_when_redis_behind_the_cache_is_down(user, settings):
    # The deployment's cache fails open: an add it cannot make returns False, as for a taken slot.
    settings.CACHES = {"default": {"BACKEND": "core.cache.FailOpenRedisCache", "LOCATION": "redis://127.0.0.1:1/0",
                                   "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}}}
    settings.PLAYGROUND_MAX_STREAMS_PER_CLIENT = 2
    job = make_job(user)
    client = signed_in(user)
    responses = [client.get(f"/api/v1/playground/jobs/{job.pk}/stream/") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert all("event: done" in read_stream(r) for r in responses)


# --- a maximum duration ----------------------------------------------------------------------------
@pytest.mark.timeout(60)
def test_a_job_that_never_starts_does_not_stream_for_ever(user, settings):
    settings.PLAYGROUND_STREAM_MAX_S = 0.5
    settings.PLAYGROUND_MAX_STREAMS_PER_CLIENT = 1
    job = make_job(user, status="queued", output="")
    client = signed_in(user)
    body = read_stream(client.get(f"/api/v1/playground/jobs/{job.pk}/stream/"))
    event, data = body.strip().split("\n")[-2:]
    assert event == "event: timeout" and json.loads(data.removeprefix("data: "))["status"] == "queued"
    assert client.get(f"/api/v1/playground/jobs/{job.pk}/stream/").status_code == 200  # slot released


def test_the_default_limit_is_the_job_deadline_plus_a_margin(settings):
    from playground.stream_slots import stream_max_s

    settings.PLAYGROUND_JOB_DEADLINE_S = 900
    assert 900 < stream_max_s() <= 1000


@pytest.fixture
def v1_queued(user, settings, monkeypatch):
    """/v1/ with a job that stays queued (no worker) and a short stream limit."""
    settings.PLAYGROUND_STREAM_MAX_S = 0.5
    runnable_model()
    _token, key = create_token(user=user, name="k")

    def submit_without_a_worker(*, user, resource, mode, messages, prompt, params, source):
        return GenerationJob.objects.create(user=user, resource=resource, mode=mode, messages=messages or [],
                                            prompt=prompt, params=params, source=source)

    monkeypatch.setattr(openai_api.services, "submit_job", submit_without_a_worker)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.mark.timeout(60)
def test_v1_gives_up_on_a_job_that_never_starts_and_cancels_it(v1_queued):
    body = {"model": "HuggingFaceTB/SmolLM2-135M-Instruct", "messages": [{"role": "user", "content": "Hi"}]}
    response = v1_queued.post("/v1/chat/completions", json.dumps(body), content_type="application/json")
    assert response.status_code == 504 and response.json()["error"]["type"] == "timeout"
    assert GenerationJob.objects.get().status == "cancelled"


@pytest.mark.timeout(60)
def test_v1_streaming_gives_up_on_a_job_that_never_starts_and_cancels_it(v1_queued):
    body = {"model": "HuggingFaceTB/SmolLM2-135M-Instruct", "messages": [{"role": "user", "content": "Hi"}],
            "stream": True}
    text = read_stream(v1_queued.post("/v1/chat/completions", json.dumps(body), content_type="application/json"))
    assert '"type": "timeout"' in text and text.endswith("data: [DONE]\n\n")
    assert GenerationJob.objects.get().status == "cancelled"


# --- embedded mode: the event table is polled with a back-off -------------------------------------
def test_embedded_polling_backs_off_while_nothing_changes_and_replays_exactly(user, monkeypatch, settings):
    settings.REDIS_URL = ""
    job = make_job(user, status="running", output="")
    delays = []

    async def fake_sleep(delay):
        delays.append(delay)
        n = len(delays)
        if n == 12:  # text arrives after a quiet spell
            await sync_to_async(eventlog.append)(job, "token", {"text": "Hello"})
        elif n == 13:
            await sync_to_async(eventlog.append)(job, "token", {"text": ", world"})
        elif n == 20:
            await sync_to_async(eventlog.append)(job, "token", {"text": "!"})
            await sync_to_async(GenerationJob.objects.filter(pk=job.pk).update)(output="Hello, world!",
                                                                               status="succeeded")
            await sync_to_async(eventlog.append)(job, "done")

    monkeypatch.setattr(core_eventlog.asyncio, "sleep", fake_sleep)

    async def collect():
        return [event async for event in events.job_events(job)]

    received = async_to_sync(collect)()
    assert delays[0] == core_eventlog.POLL_MIN_S
    assert all(a < b for a, b in zip(delays[:5], delays[1:6]))  # rising while nothing changes
    assert max(delays) == core_eventlog.POLL_MAX_S  # up to a cap
    assert delays[12] == core_eventlog.POLL_MIN_S  # quick again once text flows
    assert sum(1 for d in delays[:12] if d < core_eventlog.POLL_MAX_S) <= 8
    assert "".join(e.data["text"] for e in received if e.kind == "token") == "Hello, world!"
    assert received[-1].kind == "done" and received[-1].data["output"] == "Hello, world!"
    assert [e.seq for e in received] == [1, 2, 3, 4]
