"""The arena API without a worker: battles, hidden names, votes and their refusals, ownership."""
import json

import pytest
from django.db import IntegrityError
from django.test import Client

from evaluation.models import Battle, Vote
from playground import services as playground_services
from playground.models import GenerationJob
from tests.conftest import client_for
from tests.factories import ResourceFactory, runnable_model
from tests.playground.conftest import read_stream

from .factories import TWIN, finish, make_battle

pytestmark = pytest.mark.django_db
DEMO = "HuggingFaceTB/SmolLM2-135M-Instruct"
BATTLES = "/api/v1/arena/battles/"


def start(client, **body):
    return client.post(BATTLES, {"prompt": "Name a colour.", **body}, format="json")


def test_a_blind_battle_is_201_with_two_jobs_and_no_names(as_user, contenders):
    response = start(as_user)
    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "running" and data["mode"] == "blind"
    assert data["a"]["job"] != data["b"]["job"]
    assert data["a_model"] is None and data["b_model"] is None and data["revealed"] is False
    assert DEMO not in json.dumps(data) and TWIN not in json.dumps(data)
    battle = Battle.objects.get()
    assert {battle.model_a.repo_id, battle.model_b.repo_id} == {DEMO, TWIN}
    assert battle.job_a.messages == [{"role": "user", "content": "Name a colour."}]


def test_the_playground_does_not_show_a_blind_battles_jobs_until_the_vote(as_user, contenders):
    data = start(as_user).json()
    job = data["a"]["job"]
    assert as_user.get(f"/api/v1/playground/jobs/{job}/").status_code == 404
    assert as_user.get(f"/api/v1/playground/jobs/{job}/stream/").status_code == 404
    assert as_user.get("/api/v1/playground/jobs/").json()["count"] == 0
    finish(Battle.objects.get())
    assert as_user.post(f"{BATTLES}{data['id']}/vote/", {"winner": "a"}, format="json").status_code == 200
    assert as_user.get(f"/api/v1/playground/jobs/{job}/").json()["model"] in (DEMO, TWIN)


def test_voting_reveals_the_names(as_user, contenders):
    battle = finish(Battle.objects.get(pk=start(as_user).json()["id"]))
    response = as_user.post(f"{BATTLES}{battle.pk}/vote/", {"winner": "both_bad"}, format="json")
    assert response.status_code == 200
    data = response.json()
    assert (data["a_model"], data["b_model"]) == (battle.model_a.repo_id, battle.model_b.repo_id)
    assert data["winner"] == "both_bad" and data["revealed"] and data["counted"]
    assert as_user.get(f"{BATTLES}{battle.pk}/").json()["a_model"] == battle.model_a.repo_id


def test_a_vote_before_both_answers_finished_is_409(as_user, contenders):
    battle = Battle.objects.get(pk=start(as_user).json()["id"])
    GenerationJob.objects.filter(pk=battle.job_a_id).update(status="succeeded")
    response = as_user.post(f"{BATTLES}{battle.pk}/vote/", {"winner": "a"}, format="json")
    assert response.status_code == 409
    assert not Vote.objects.exists()
    assert as_user.get(f"{BATTLES}{battle.pk}/").json()["a_model"] is None


def test_a_second_vote_is_409(as_user, contenders):
    battle = finish(Battle.objects.get(pk=start(as_user).json()["id"]))
    assert as_user.post(f"{BATTLES}{battle.pk}/vote/", {"winner": "a"}, format="json").status_code == 200
    assert as_user.post(f"{BATTLES}{battle.pk}/vote/", {"winner": "b"}, format="json").status_code == 409
    assert Vote.objects.get().winner == "a"


def test_a_failed_answer_cannot_be_judged(as_user, contenders):
    battle = finish(Battle.objects.get(pk=start(as_user).json()["id"]), status="failed")
    assert as_user.get(f"{BATTLES}{battle.pk}/").json()["status"] == "failed"
    assert as_user.post(f"{BATTLES}{battle.pk}/vote/", {"winner": "tie"}, format="json").status_code == 409


def test_an_unknown_verdict_is_400_naming_winner(as_user, contenders):
    battle = finish(Battle.objects.get(pk=start(as_user).json()["id"]))
    response = as_user.post(f"{BATTLES}{battle.pk}/vote/", {"winner": "c"}, format="json")
    assert response.status_code == 400 and "winner" in response.json()


def test_the_database_keeps_one_vote_per_battle(contenders):
    battle = make_battle(*contenders, winner="a")
    with pytest.raises(IntegrityError):
        Vote.objects.create(battle=battle, winner="b")


def test_other_members_get_404(as_user, as_other, contenders):
    battle = finish(Battle.objects.get(pk=start(as_user).json()["id"]))
    assert as_other.get(f"{BATTLES}{battle.pk}/").status_code == 404
    assert as_other.post(f"{BATTLES}{battle.pk}/vote/", {"winner": "a"}, format="json").status_code == 404
    assert as_other.get(f"{BATTLES}{battle.pk}/stream/a/").status_code == 404
    assert as_other.get(BATTLES).json()["count"] == 0
    assert not Vote.objects.exists()


def test_anonymous_callers_are_401(api, contenders):
    assert start(api).status_code == 401
    assert api.get(BATTLES).status_code == 401


@pytest.mark.parametrize("body,field", [
    ({"prompt": ""}, "prompt"),
    ({"prompt": "   "}, "prompt"),
    ({"prompt": "x" * 32_001}, "prompt"),
    ({"models": [DEMO]}, "models"),
    ({"models": [DEMO, DEMO]}, "models"),
    ({"models": [DEMO, "nobody/nothing"]}, "models"),
    ({"models": "abc"}, "models"),
])
def test_bad_input_is_400_naming_the_field(as_user, contenders, body, field):
    response = as_user.post(BATTLES, {"prompt": "Hi", **body}, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()
    assert not Battle.objects.exists() and not GenerationJob.objects.exists()


def test_a_model_without_a_runtime_cannot_be_compared(as_user, contenders):
    ResourceFactory(owner="acme", name="plain")
    response = start(as_user, models=[DEMO, "acme/plain"])
    assert response.status_code == 400 and "models" in response.json()


def test_fewer_than_two_runnable_models_is_400(as_user):
    runnable_model()
    response = start(as_user)
    assert response.status_code == 400 and "models" in response.json()
    assert not GenerationJob.objects.exists()


def test_compare_mode_names_the_models_and_its_vote_does_not_count(as_user, contenders):
    data = start(as_user, models=[TWIN, DEMO]).json()
    assert (data["mode"], data["a_model"], data["b_model"]) == ("compare", TWIN, DEMO)
    assert as_user.get(f"/api/v1/playground/jobs/{data['a']['job']}/").status_code == 200  # not sealed
    finish(Battle.objects.get(pk=data["id"]))
    voted = as_user.post(f"{BATTLES}{data['id']}/vote/", {"winner": "a"}, format="json").json()
    assert voted["counted"] is False
    assert as_user.get("/api/v1/arena/leaderboard/").json()["results"] == []


def test_the_playground_quota_covers_both_answers_and_nothing_is_half_written(as_user, contenders, settings):
    settings.PLAYGROUND_MAX_ACTIVE_JOBS = 3
    assert start(as_user).status_code == 201  # two active jobs
    response = start(as_user)  # the first job fits, the second does not
    assert response.status_code == 429 and response.headers["Retry-After"]
    assert Battle.objects.count() == 1 and GenerationJob.objects.count() == 2


@pytest.mark.django_db(transaction=True)  # the jobs are queued when the request's transaction commits
def test_a_broker_lost_mid_start_is_503_and_fails_both_answers(as_user, contenders, lose_the_broker_on_commit):
    lose_the_broker_on_commit(playground_services)
    assert start(as_user).status_code == 503
    assert sorted(GenerationJob.objects.values_list("status", flat=True)) == ["failed", "failed"]


def test_starting_battles_is_throttled(as_user, contenders, settings):
    settings.ARENA_BATTLE_RATE = "1/min"
    assert start(as_user).status_code == 201
    response = start(as_user)
    assert response.status_code == 429 and "Retry-After" in response.headers


def test_voting_is_throttled(as_user, contenders, settings):
    settings.ARENA_VOTE_RATE = "1/min"
    battle = finish(Battle.objects.get(pk=start(as_user).json()["id"]))
    as_user.post(f"{BATTLES}{battle.pk}/vote/", {"winner": "x"}, format="json")
    assert as_user.post(f"{BATTLES}{battle.pk}/vote/", {"winner": "a"}, format="json").status_code == 429
    assert not Vote.objects.exists()


def test_a_sides_stream_ends_with_the_side_and_never_the_model(as_user, contenders):
    battle = finish(Battle.objects.get(pk=start(as_user).json()["id"]))
    client = Client()
    client.force_login(battle.user)
    body = read_stream(client.get(f"{BATTLES}{battle.pk}/stream/b/"))
    assert "event: done" in body and "An answer." in body
    assert DEMO not in body and TWIN not in body and '"model"' not in body
    final = json.loads(body.split("event: done\ndata: ")[1].split("\n")[0])
    assert final["job"] == battle.job_b_id and final["status"] == "succeeded"
    assert final["metrics"] is None  # token counts and speeds would tell the models apart


def test_a_sides_metrics_wait_for_the_vote(as_user, contenders):
    battle = finish(Battle.objects.get(pk=start(as_user).json()["id"]))
    before = as_user.get(f"{BATTLES}{battle.pk}/").json()
    assert before["a"]["metrics"] is None and before["b"]["metrics"] is None
    after = as_user.post(f"{BATTLES}{battle.pk}/vote/", {"winner": "a"}, format="json").json()
    assert set(after["a"]["metrics"]) == {"prompt_tokens", "completion_tokens", "ttft_ms", "tokens_per_s"}


def test_a_failed_sides_own_words_wait_for_the_names(as_user, contenders):
    """They may name the model: its context length, its server's message."""
    battle = Battle.objects.get(pk=start(as_user).json()["id"])
    GenerationJob.objects.filter(pk=battle.job_a_id).update(
        status="failed", error="The prompt has 9000 tokens; it exceeds the model's context of 8192.")
    side = as_user.get(f"{BATTLES}{battle.pk}/").json()["a"]
    assert side["status"] == "failed" and side["error"] == "This answer failed."


def test_a_compare_battle_shows_why_a_side_failed(as_user, contenders):
    battle = Battle.objects.get(pk=start(as_user, models=[DEMO, TWIN]).json()["id"])
    GenerationJob.objects.filter(pk=battle.job_b_id).update(status="failed", error="The model server failed: boom")
    assert as_user.get(f"{BATTLES}{battle.pk}/").json()["b"]["error"] == "The model server failed: boom"


def test_an_unknown_side_is_404(as_user, contenders):
    battle = Battle.objects.get(pk=start(as_user).json()["id"])
    assert as_user.get(f"{BATTLES}{battle.pk}/stream/c/").status_code == 404


def test_my_battles_newest_first(as_user, user, contenders):
    older = make_battle(*contenders, user=user)
    newer = make_battle(*contenders, user=user, winner="a")
    make_battle(*contenders)  # someone else's
    results = as_user.get(BATTLES).json()["results"]
    assert [r["id"] for r in results] == [newer.pk, older.pk]
    assert results[1]["a_model"] is None and results[0]["a_model"] == newer.model_a.repo_id


@pytest.mark.parametrize("n", [2, 12])
def test_battle_list_query_count_is_flat(user, contenders, n, django_assert_max_num_queries):
    for i in range(n):
        make_battle(*contenders, user=user, winner="a" if i % 2 else None)
    client = client_for(user)
    with django_assert_max_num_queries(6):
        assert client.get(BATTLES).json()["count"] == n



def test_the_owner_stops_both_answers_and_the_battle_cannot_be_judged(as_user, as_other, contenders):
    battle_id = start(as_user).json()["id"]
    assert as_other.post(f"{BATTLES}{battle_id}/stop/").status_code == 404
    response = as_user.post(f"{BATTLES}{battle_id}/stop/")
    assert response.status_code == 200 and response.json()["status"] == "failed"
    assert set(GenerationJob.objects.values_list("status", flat=True)) == {"cancelled"}
    assert as_user.post(f"{BATTLES}{battle_id}/vote/", {"winner": "a"}, format="json").status_code == 409
    assert response.json()["a_model"] is None


def test_a_member_compares_their_own_draft_and_nobody_elses(user, other_user, contenders):
    draft = runnable_model("someone/tuned-lora")
    draft.is_published, draft.submitter = False, user
    draft.save()
    body = {"prompt": "Say hi.", "models": ["someone/tuned-lora", contenders[0].repo_id]}
    assert client_for(other_user).post("/api/v1/arena/battles/", body, format="json").status_code == 400
    assert client_for(user).post("/api/v1/arena/battles/", body, format="json").status_code == 201
