"""The arena's pages: start, watch and judge a battle, my battles, the leaderboard, moderation."""
import re

import pytest
from django.test import Client

from evaluation.models import Battle, Vote
from playground.models import GenerationJob
from tests.factories import StaffFactory, UserFactory, runnable_model

from .factories import TWIN, finish, make_battle

pytestmark = pytest.mark.django_db
DEMO = "HuggingFaceTB/SmolLM2-135M-Instruct"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_with_one_runnable_model_the_page_says_what_is_missing(client):
    runnable_model()
    page = client.get("/arena/").content.decode()
    assert 'id="arena-not-enough"' in page and "/playground/" in page and "/hub/?kind=model" in page
    assert 'id="arena-form"' not in page and "manage.py" not in page  # what to run is for moderators


def test_with_one_runnable_model_a_moderator_is_told_how_to_add_another(staff):
    runnable_model()
    page = signed_in(staff).get("/arena/").content.decode()
    assert "<code>python manage.py runtime add</code>" in page and "<code>make demo-finetune</code>" in page


def test_a_battle_from_the_page_hides_the_names_until_the_vote(user, contenders):
    client = signed_in(user)
    response = client.post("/arena/", {"prompt": "Say hi.", "mode": "blind"})
    battle = Battle.objects.get()
    assert response.status_code == 302 and response["Location"] == battle.get_absolute_url()
    page = client.get(battle.get_absolute_url()).content.decode()
    assert DEMO not in page and TWIN not in page
    assert "disabled" in page  # the vote waits for both answers
    finish(battle)
    assert client.post(f"/arena/battles/{battle.pk}/vote/", {"winner": "b"}).status_code == 302
    page = client.get(battle.get_absolute_url()).content.decode()
    assert DEMO in page and TWIN in page and 'id="arena-verdict"' in page
    assert Vote.objects.get().winner == "b"


def test_an_answer_cut_at_the_length_limit_says_so(user, contenders):
    client = signed_in(user)
    client.post("/arena/", {"prompt": "Say hi.", "mode": "blind"})
    battle = finish(Battle.objects.get())
    GenerationJob.objects.filter(pk=battle.job_a_id).update(finish_reason="length")
    page = client.get(battle.get_absolute_url()).content.decode()
    notes = re.findall(r'<p class="pane-note muted"( hidden)?>([^<]*)</p>', page)
    assert notes == [("", "Cut short: the answer reached the length limit."), (" hidden", "")]


def test_compare_mode_needs_both_models(user, contenders):
    response = signed_in(user).post("/arena/", {"prompt": "Say hi.", "mode": "compare", "model_a": DEMO})
    assert response.status_code == 400 and "Pick a model to compare." in response.content.decode()
    assert not Battle.objects.exists()


def test_compare_mode_from_the_page(user, contenders):
    signed_in(user).post("/arena/", {"prompt": "Say hi.", "mode": "compare", "model_a": TWIN, "model_b": DEMO})
    battle = Battle.objects.get()
    assert (battle.mode, battle.model_a.repo_id, battle.model_b.repo_id) == ("compare", TWIN, DEMO)


def test_an_empty_prompt_is_400_and_the_form_keeps_the_choice(user, contenders):
    response = signed_in(user).post("/arena/", {"prompt": " ", "mode": "blind"})
    assert response.status_code == 400 and not Battle.objects.exists()


def test_someone_elses_battle_is_404(contenders):
    battle = make_battle(*contenders)
    client = signed_in(UserFactory())
    assert client.get(battle.get_absolute_url()).status_code == 404
    assert client.post(f"/arena/battles/{battle.pk}/vote/", {"winner": "a"}).status_code == 404


@pytest.mark.parametrize("n", [2, 12])
def test_my_battles_query_count_is_flat(user, contenders, n, django_assert_max_num_queries):
    for i in range(n):
        make_battle(*contenders, user=user, winner="a" if i % 2 else None)
    client = signed_in(user)
    with django_assert_max_num_queries(8):
        page = client.get("/arena/battles/")
    assert page.content.decode().count('class="row"') == n


def test_the_leaderboard_page_without_votes_says_so(client):
    assert "No blind votes yet" in client.get("/arena/leaderboard/").content.decode()


def test_the_leaderboard_page_draws_both_charts(client, contenders):
    make_battle(*contenders, winner="a")
    page = client.get("/arena/leaderboard/").content.decode()
    assert 'class="chart intervals"' in page and 'class="chart heatmap"' in page and "arena-ratings" in page


def test_moderators_void_a_members_votes_on_their_page(contenders):
    voter = make_battle(*contenders, winner="a").user
    client = signed_in(StaffFactory())
    page = client.get("/arena/moderation/").content.decode()
    assert voter.username in page
    assert client.post("/arena/moderation/", {"username": voter.username.upper(), "reason": "bot"}).status_code == 302
    assert Vote.objects.get().is_voided


def test_members_cannot_open_the_moderation_page(user):
    assert signed_in(user).get("/arena/moderation/").status_code == 403


def test_the_pages_share_the_apis_throttles(user, contenders, settings):
    settings.ARENA_BATTLE_RATE = "1/min"
    client = signed_in(user)
    assert client.post("/arena/", {"prompt": "Say hi.", "mode": "blind"}).status_code == 302
    response = client.post("/arena/", {"prompt": "Say hi again.", "mode": "blind"})
    assert response.status_code == 400 and "too fast" in response.content.decode()
    assert Battle.objects.count() == 1


def test_a_sealed_job_cannot_be_shared_from_the_run_page(user, contenders):
    battle = make_battle(*contenders, user=user)
    assert signed_in(user).post(f"/playground/runs/{battle.job_a_id}/share/", {"public": "1"}).status_code == 404
    battle.job_a.refresh_from_db()
    assert not battle.job_a.is_public


def test_the_owner_stops_a_battle_from_its_page(user, contenders):
    client = signed_in(user)
    client.post("/arena/", {"prompt": "Say hi.", "mode": "blind"})
    battle = Battle.objects.get()
    assert 'id="arena-stop"' in client.get(battle.get_absolute_url()).content.decode()
    assert signed_in(UserFactory()).post(f"/arena/battles/{battle.pk}/stop/").status_code == 404
    assert client.post(f"/arena/battles/{battle.pk}/stop/").status_code == 302
    assert Battle.objects.with_parts().get().status == "failed"


def test_send_to_arena_preselects_a_compare_battle_with_the_members_own_draft(user, contenders):
    draft = runnable_model("someone/tuned-lora")
    draft.is_published, draft.submitter = False, user
    draft.save()
    page = signed_in(user).get("/arena/?mode=compare&a=someone/tuned-lora").content.decode()
    assert re.search(r'value="compare"[^>]*checked', page) and not re.search(r'value="blind"[^>]*checked', page)
    assert '<option value="someone/tuned-lora" selected>' in page


def test_a_draft_is_not_offered_to_others(contenders, other_user):
    draft = runnable_model("someone/tuned-lora")
    draft.is_published = False
    draft.save()
    page = signed_in(other_user).get("/arena/?mode=compare&a=someone/tuned-lora").content.decode()
    assert '<option value="someone/tuned-lora"' not in page
    response = signed_in(other_user).post("/arena/", {"prompt": "Hi", "mode": "compare", "model_a": "someone/tuned-lora",
                                                      "model_b": DEMO})
    assert response.status_code == 400 and not Battle.objects.exists()


def test_a_member_compares_their_draft_from_the_page(user, contenders):
    draft = runnable_model("someone/tuned-lora")
    draft.is_published, draft.submitter = False, user
    draft.save()
    signed_in(user).post("/arena/", {"prompt": "Say hi.", "mode": "compare", "model_a": "someone/tuned-lora",
                                     "model_b": DEMO})
    assert Battle.objects.get().model_a == draft


def test_with_one_public_model_a_member_still_compares_their_draft_against_it(user):
    runnable_model()
    draft = runnable_model("someone/tuned-lora")
    draft.is_published, draft.submitter = False, user
    draft.save()
    page = signed_in(user).get(f"/arena/?mode=compare&a=someone/tuned-lora&b={DEMO}").content.decode()
    assert 'id="arena-form"' in page and 'id="arena-blind-closed"' in page and 'value="blind"' not in page
    assert re.search(r'value="compare"[^>]*checked', page)
    assert signed_in(UserFactory()).get("/arena/").content.decode().count('id="arena-not-enough"') == 1
