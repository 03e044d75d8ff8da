"""The leaderboard from stored votes: what counts, voiding and the refit, the JSON, query counts."""
import pytest

from evaluation.arena import leaderboard
from evaluation.models import Vote
from tests.factories import UserFactory, runnable_model

from .factories import TWIN, make_battle

pytestmark = pytest.mark.django_db
LEADERBOARD = "/api/v1/arena/leaderboard/"
DEMO = "HuggingFaceTB/SmolLM2-135M-Instruct"


def test_the_json_has_ratings_cis_counts_and_the_win_rate_matrix(api, contenders):
    demo, twin = contenders
    for winner in ["a", "a", "a", "b", "tie"]:
        make_battle(demo, twin, winner=winner)
    data = api.get(LEADERBOARD).json()
    assert [r["model"] for r in data["results"]] == [DEMO, TWIN]
    best = data["results"][0]
    assert set(best) >= {"model", "rating", "ci_low", "ci_high", "battles", "wins"}
    assert best["ci_low"] <= best["rating"] <= best["ci_high"]
    assert (best["battles"], best["wins"]) == (5, 3)
    assert best["rating"] > 1000 > data["results"][1]["rating"]
    assert data["votes"] == 5
    assert data["matrix"] == {"models": [DEMO, TWIN], "win_rate": [[None, 0.6], [0.2, None]],
                              "battles": [[0, 5], [5, 0]]}


def test_only_blind_unvoided_votes_count(api, contenders):
    demo, twin = contenders
    make_battle(demo, twin, winner="a")
    make_battle(demo, twin, winner="b", mode="compare")
    make_battle(demo, twin, winner="b", voided=True)
    make_battle(demo, twin)  # not voted on yet
    assert api.get(LEADERBOARD).json()["votes"] == 1


def test_a_model_taken_down_leaves_the_leaderboard_with_its_votes(api, contenders):
    demo, twin = contenders
    third = runnable_model("acme/third")
    make_battle(demo, twin, winner="a")
    make_battle(twin, third, winner="a")
    assert api.get(LEADERBOARD).json()["votes"] == 2
    type(twin).objects.filter(pk=twin.pk).update(is_published=False, is_taken_down=True)
    data = api.get(LEADERBOARD).json()
    assert data["votes"] == 0 and data["results"] == []
    type(twin).objects.filter(pk=twin.pk).update(is_published=True, is_taken_down=False)
    assert api.get(LEADERBOARD).json()["votes"] == 2  # published again: its votes count again


def test_both_bad_counts_as_a_tie(contenders):
    demo, twin = contenders
    make_battle(demo, twin, winner="both_bad")
    make_battle(twin, demo, winner="tie")
    board = leaderboard.current()
    assert [r["rating"] for r in board.results] == [1000.0, 1000.0]


def test_voiding_a_members_votes_refits_the_leaderboard(api, as_staff, contenders):
    demo, twin = contenders
    spammer = UserFactory()
    for _ in range(6):
        make_battle(demo, twin, user=spammer, winner="b")
    for _ in range(3):
        make_battle(demo, twin, winner="a")
    assert api.get(LEADERBOARD).json()["results"][0]["model"] == TWIN
    response = as_staff.post("/api/v1/arena/moderation/void/",  # as a member is named anywhere: any case
                             {"user": spammer.username.upper(), "reason": "one-sided"}, format="json")
    assert response.status_code == 200 and response.json() == {"user": spammer.username, "voided": 6}
    data = api.get(LEADERBOARD).json()
    assert data["votes"] == 3 and data["results"][0]["model"] == DEMO
    assert Vote.objects.filter(voided_by__isnull=False, void_reason="one-sided").count() == 6


def test_members_cannot_void_votes(as_user, contenders):
    victim = make_battle(*contenders, winner="a").user
    response = as_user.post("/api/v1/arena/moderation/void/", {"user": victim.username}, format="json")
    assert response.status_code == 403
    assert not Vote.objects.filter(voided_at__isnull=False).exists()


def test_voiding_an_unknown_member_is_400_naming_user(as_staff, contenders):
    response = as_staff.post("/api/v1/arena/moderation/void/", {"user": "nobody"}, format="json")
    assert response.status_code == 400 and "user" in response.json()


def test_the_same_votes_give_the_same_intervals_and_the_fit_is_cached(contenders, django_assert_num_queries):
    demo, twin = contenders
    for winner in "aab":
        make_battle(demo, twin, winner=winner)
    first = leaderboard.current()
    with django_assert_num_queries(2):  # the votes' fingerprint, the withheld models; the fit is cached
        assert leaderboard.current() == first


def test_with_the_cache_down_the_same_votes_are_not_fitted_again(contenders, settings, monkeypatch):
    # The deployment's cache fails open (every get misses) and the anonymous throttle with it.
    settings.CACHES = {"default": {"BACKEND": "core.cache.FailOpenRedisCache", "LOCATION": "redis://127.0.0.1:1/0",
                                   "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}}}
    demo, twin = contenders
    make_battle(demo, twin, winner="a")
    fits = []
    monkeypatch.setattr(leaderboard, "compute", lambda rows, **kw: fits.append(rows) or leaderboard.Leaderboard())
    leaderboard.current(), leaderboard.current()
    assert len(fits) == 1
    make_battle(demo, twin, winner="b")
    leaderboard.current()
    assert len(fits) == 2  # new votes, a new fit


@pytest.mark.parametrize("n_models,n_votes", [(2, 4), (6, 60)])
def test_leaderboard_query_count_is_flat(api, client, n_models, n_votes, django_assert_max_num_queries):
    models = [runnable_model(f"acme/model-{i}") for i in range(n_models)]
    voter = UserFactory()
    for i in range(n_votes):
        make_battle(models[i % n_models], models[(i + 1) % n_models], user=voter, winner="ab"[i % 2 and i % 3 == 0])
    with django_assert_max_num_queries(4):  # the votes' and withheld models' keys, the counts, the names
        assert len(api.get(LEADERBOARD).json()["results"]) == n_models
    with django_assert_max_num_queries(6):
        page = client.get("/arena/leaderboard/")
    assert page.status_code == 200 and page.content.count(b'class="dot"') == n_models


def test_the_admin_action_voids_the_chosen_votes(contenders, client):
    votes = [make_battle(*contenders, winner="a").vote for _ in range(3)]
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post("/admin/evaluation/vote/", {"action": "void_votes", "_selected_action": [votes[0].pk]})
    assert response.status_code == 302
    assert list(Vote.objects.filter(voided_at__isnull=False)) == [votes[0]]
    assert leaderboard.current().votes == 2


def test_a_models_page_shows_its_place_on_the_arena_leaderboard(client, contenders):
    demo, twin = contenders
    for winner in ["a", "a", "b"]:
        make_battle(demo, twin, winner=winner)
    page = client.get(demo.get_absolute_url()).content.decode()
    assert 'data-testid="model-arena"' in page and "1 of 2, from 3 battles" in page
    assert 'data-testid="model-arena"' not in client.get(runnable_model("acme/unjudged").get_absolute_url()).content.decode()


def test_the_two_leaderboards_link_to_each_other(client):
    assert 'id="to-suite-leaderboards"' in client.get("/arena/leaderboard/").content.decode()
    assert 'id="to-arena-leaderboard"' in client.get("/leaderboards/").content.decode()
