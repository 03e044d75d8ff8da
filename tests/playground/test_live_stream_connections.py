"""Open event streams hold no database connection: a web process whose pool has fewer connections
than it has streams open goes on serving its other requests (a live uvicorn, no worker)."""
import pytest
import requests

from core.services import create_token
from playground.models import GenerationJob
from tests.factories import UserFactory, runnable_model
from tests.models_hub.hub_live import HubServer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]
# Two connections, and a wait for one shorter than a stream's first look at its job (after 1 s of
# silence in its log), so that only a stream that gave its connection back at once lets others in.
SMALL_POOL = {"DATABASE_POOL_MIN_SIZE": "1", "DATABASE_POOL_MAX_SIZE": "2", "DATABASE_POOL_TIMEOUT_S": "0.5"}


@pytest.fixture
def server(tmp_path):
    server = HubServer(tmp_path, extra_env=SMALL_POOL).start()
    yield server
    server.stop()


def test_more_open_streams_than_pooled_connections_leave_the_site_working(server):
    user = UserFactory()
    _token, key = create_token(user=user, name="k")
    headers = {"Authorization": f"Token {key}"}
    # Queued, and no worker here: its streams wait, as they do while a job queues or runs for minutes.
    job = GenerationJob.objects.create(user=user, resource=runnable_model(), mode="completion", prompt="Once",
                                       params={})
    streams = []
    try:
        for _ in range(4):
            streams.append(requests.get(f"{server.base_url}/api/v1/playground/jobs/{job.pk}/stream/",
                                        headers=headers, stream=True, timeout=30))
        assert [stream.status_code for stream in streams] == [200] * 4
        listed = requests.get(f"{server.base_url}/api/v1/playground/jobs/", headers=headers, timeout=30)
        assert listed.status_code == 200 and listed.json()["results"][0]["id"] == job.pk
    finally:
        for stream in streams:
            stream.close()
