"""The arena as a person uses it, in Debian's Chromium: a prompt, two panes streaming at once
with the names hidden, a vote, then the names."""
import re

import pytest
from playwright.sync_api import expect

from evaluation.models import Battle
from tests.evaluation.arena.conftest import contenders  # noqa: F401  (the two runnable models)

from .conftest import shot, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
DEMO = "HuggingFaceTB/SmolLM2-135M-Instruct"


def test_prompt_two_panes_stream_vote_and_the_names_are_revealed(new_page, contenders, live_stack):  # noqa: F811
    page = new_page()
    sign_up(page, "judge")
    page.goto("/arena/")
    expect(page.locator("#arena-compare")).to_be_hidden()  # blind by default: nothing to pick
    page.fill("#id_prompt", "Describe the sea in one sentence.")
    page.get_by_role("button", name="Start the battle").click()
    expect(page).to_have_url(re.compile(r".*/arena/battles/\d+/$"))
    panes = page.locator(".arena-pane")
    expect(panes).to_have_count(2)
    for pane in (panes.nth(0), panes.nth(1)):  # both answers appear while the battle runs
        expect(pane.locator(".text")).not_to_have_text("", timeout=120_000)
    expect(page.locator("main")).not_to_contain_text(DEMO)
    vote = page.get_by_role("button", name="A is better")
    expect(vote).to_be_enabled(timeout=180_000)
    expect(panes.nth(0).locator(".metrics")).to_have_text("")  # speed would hint at the model
    shot(page, "arena-before-vote")
    vote.click()
    expect(page.locator("#arena-verdict")).to_contain_text("A is better")
    names = page.locator(".arena-model")
    expect(names).to_have_count(2)
    assert {names.nth(0).inner_text(), names.nth(1).inner_text()} == {c.repo_id for c in contenders}
    expect(panes.nth(0).locator(".metrics")).to_contain_text("tokens/s")
    shot(page, "arena-revealed")
    assert Battle.objects.get().vote.winner == "a"
    page.goto("/arena/leaderboard/")
    expect(page.locator("#arena-ratings tbody tr")).to_have_count(2)
    shot(page, "arena-leaderboard")
