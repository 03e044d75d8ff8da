"""A battle end to end: the API, a real Celery worker running two runnable models over the same
GGUF, both sides streamed at once through the arena (never naming a model), then the vote."""
import threading

import pytest
import requests

from core.services import create_token
from tests.factories import UserFactory
from tests.live import sse_events

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
DEMO = "HuggingFaceTB/SmolLM2-135M-Instruct"


def test_a_blind_battle_streams_both_sides_then_the_vote_reveals_them(live_stack, contenders, settings):
    _token, key = create_token(user=UserFactory(), name="live")
    headers = {"Authorization": f"Token {key}"}
    base = f"{live_stack.base_url}/api/v1/arena/battles/"
    response = requests.post(base, json={"prompt": "Name three colours."}, headers=headers, timeout=10)
    assert response.status_code == 201, response.text
    battle = response.json()
    streams: dict[str, list] = {}

    def read(side: str) -> None:
        with requests.get(live_stack.base_url + battle[side]["stream_url"], headers=headers, stream=True,
                          timeout=300) as r:
            streams[side] = [(event, data) for event, data, _t in sse_events(r)]

    readers = [threading.Thread(target=read, args=(side,)) for side in "ab"]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join(timeout=300)
    for side in "ab":
        events = streams[side]
        assert events[-1][0] == "done", events[-1]
        final = events[-1][1]
        assert "model" not in final and final["job"] == battle[side]["job"] and final["status"] == "succeeded"
        text = "".join(data["text"] for event, data in events if event == "token")
        assert text and text == final["output"]
    assert DEMO not in str(streams)

    voted = requests.post(f"{base}{battle['id']}/vote/", json={"winner": "tie"}, headers=headers, timeout=10)
    assert voted.status_code == 200, voted.text
    assert {voted.json()["a_model"], voted.json()["b_model"]} == {c.repo_id for c in contenders}
    again = requests.post(f"{base}{battle['id']}/vote/", json={"winner": "a"}, headers=headers, timeout=10)
    assert again.status_code == 409
    board = requests.get(f"{live_stack.base_url}/api/v1/arena/leaderboard/", timeout=30).json()
    assert board["votes"] == 1 and [r["rating"] for r in board["results"]] == [1000.0, 1000.0]
