"""Files the web process streams itself: a few at once per client, the rest told to wait (429
with Retry-After, which huggingface_hub waits out); a finished download frees its slot."""
import asyncio
import warnings

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client

from core import slots
from core.services import create_token
from models_hub import services
from models_hub.hf_api import files

from .repo_helpers import commit

pytestmark = pytest.mark.django_db


@pytest.fixture
def url(user, settings):
    settings.HUB_MAX_DOWNLOADS_PER_CLIENT = 2
    resource = services.save_resource(user=user, data={"kind": "model", "name": "popular", "title": "Popular"})
    commit(resource, user, {"weights.bin": b"w" * 10_000})
    return f"/{resource.repo_id}/resolve/main/weights.bin"


@pytest.fixture
def token_headers(user) -> dict:
    return {"Authorization": f"Bearer {create_token(user=user, name='hf')[1]}"}


def drained(response) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the sync test client drains an asynchronous body
        return b"".join(response)


def test_a_client_past_its_downloads_is_told_to_wait(url, client: Client):
    open_ones = [client.get(url), client.get(url)]  # their bodies not read yet
    refused = client.get(url)
    assert [r.status_code for r in open_ones] == [200, 200]
    assert refused.status_code == 429 and refused["Retry-After"] == str(slots.RETRY_AFTER_S)
    assert refused["X-Error-Code"] == "TooManyRequests"


def test_a_finished_download_frees_its_slot(url, client: Client):
    first, second = client.get(url), client.get(url)
    assert drained(first) == b"w" * 10_000
    third = client.get(url)
    assert third.status_code == 200 and drained(third) == b"w" * 10_000
    drained(second)


def test_clients_are_counted_apart(url, user, other_user):
    member = Client(REMOTE_ADDR="10.0.0.1")
    member.force_login(user)
    held = [member.get(url), member.get(url)]
    other = Client(REMOTE_ADDR="10.0.0.1")
    other.force_login(other_user)
    assert other.get(url).status_code == 200  # another member at the same address
    assert Client(REMOTE_ADDR="10.0.0.1").get(url).status_code == 200  # signed out: counted by address
    assert member.get(url).status_code == 429
    for response in held:
        drained(response)


def test_heads_take_no_slot(url, client: Client):
    held = [client.get(url), client.get(url)]
    assert client.head(url).status_code == 200
    for response in held:
        drained(response)


@pytest.mark.django_db(transaction=True)
def test_a_stalled_download_keeps_its_slot_while_it_lasts(url, token_headers, monkeypatch):
    """A client that stops reading (or reads slowly) stalls the body, not the slot's renewal:
    it cannot let its slots lapse and open more."""
    monkeypatch.setattr(files, "SLOT_S", 1)
    monkeypatch.setattr(slots, "SLOT_GRACE_S", 1)  # a slot not renewed lapses after 2 s

    async def stall_then_ask_again():
        client = AsyncClient()
        stalled = [await client.get(url, headers=token_headers) for _ in range(2)]
        reading = [asyncio.ensure_future(anext(aiter(r.streaming_content))) for r in stalled]
        await asyncio.sleep(3.5)  # the first part is on its way; nothing more is read
        try:
            return (await client.get(url, headers=token_headers)).status_code
        finally:
            for part in reading:
                part.cancel()

    assert async_to_sync(stall_then_ask_again)() == 429
