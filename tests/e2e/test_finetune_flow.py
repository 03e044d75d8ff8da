"""Fine-tuning as a member does it: the form, the live job page, the published model's page."""
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from finetune.models import FineTuneJob
from tests.factories import runnable_model
from tests.finetune.conftest import make_dataset

from .conftest import shot, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(settings, live_stack):
    # The dataset's files go where the live server reads them.
    settings.STORAGES = {**settings.STORAGES, "hub": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(Path(live_stack.env["VAR_DIR"]) / "hub-files")}}}
    runnable_model()
    return make_dataset()


def test_fine_tune_from_the_form_watch_it_train_and_publish_the_model(new_page, site):
    page = new_page()
    sign_up(page, "tuner")
    page.goto("/finetune/new/")
    page.select_option("#id_dataset", "acme/pairs")
    page.fill("#id_output_name", "pairs-lora")
    page.fill("#id_max_steps", "3")
    page.fill("#id_batch_size", "2")
    page.fill("#id_max_seq_len", "64")
    page.fill("#id_lora_r", "4")
    page.click("#finetune-form button[type=submit]")
    expect(page).to_have_url(re.compile(r".*/finetune/\d+/$"))  # not the form: `*` matches "new"
    job = FineTuneJob.objects.get(output_name="pairs-lora")
    # The page follows the job's events and reloads once it has ended.
    expect(page.locator("#output a").first).to_have_text("tuner/pairs-lora", timeout=280_000)
    expect(page.locator("#step")).to_have_text("3")
    assert page.locator("#charts svg.chart path.line").first.get_attribute("d").startswith("M")
    shot(page, "finetune-job")
    job.refresh_from_db()
    assert job.status == "succeeded"

    page.click("#output a")
    expect(page.locator(".notice")).to_contain_text("Draft")
    expect(page.get_by_role("link", name="Send to arena")).to_have_attribute(
        "href", "/arena/?mode=compare&a=tuner/pairs-lora")
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".notice", has_text="Draft")).to_have_count(0)
    expect(page.get_by_role("link", name="Try in playground")).to_be_visible()
    shot(page, "finetune-model")
