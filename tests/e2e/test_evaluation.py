"""Evaluation as a member does it, in Debian's Chromium: from a dataset's page to a run's live
progress, its results and samples, and the suite's leaderboard."""
import re

import pytest
from playwright.sync_api import expect

from tests.evaluation.factories import dataset, small_files
from tests.factories import runnable_model

from .conftest import shot, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def suite_dataset(live_stack, settings):
    settings.STORAGES = {**settings.STORAGES, "hub": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(live_stack.workdir / "var" / "hub-files")}}}
    runnable_model()
    return dataset(small_files(), name="e2e-suite")


def test_run_an_evaluation_from_a_dataset_and_see_the_leaderboard(new_page, suite_dataset):
    page = new_page()
    sign_up(page, "evaluator")
    page.goto(suite_dataset.get_absolute_url())
    suite_card = page.get_by_test_id("dataset-suite")
    expect(suite_card).to_contain_text("Small suite")
    suite_card.get_by_role("link", name="Run an evaluation").click()
    page.select_option("#id_model", "HuggingFaceTB/SmolLM2-135M-Instruct")
    page.get_by_role("button", name="Start").click()
    expect(page).to_have_url(re.compile(r".*/evaluations/\d+/$"))
    expect(page.get_by_test_id("run-metrics")).to_be_visible(timeout=240_000)  # reloaded when done
    expect(page.get_by_test_id("run-status")).to_have_text("succeeded")
    expect(page.get_by_test_id("run-total")).to_have_text("20")
    expect(page.get_by_test_id("samples")).to_contain_text("Translate Chinese to English.")
    shot(page, "evaluation-run")
    page.get_by_role("link", name="acme/e2e-suite").click()
    board = page.get_by_test_id("leaderboard")
    expect(board).to_contain_text("HuggingFaceTB/SmolLM2-135M-Instruct")
    board.get_by_role("link", name="sums").first.click()  # sort by a column
    expect(page).to_have_url(re.compile(r"ordering=sums\.acc"))
    shot(page, "evaluation-leaderboard")
