"""The job page and its server-drawn curves."""
import html
import re

import pytest

from core.charts import line_chart
from finetune.models import FineTuneJob
from tests.factories import ResourceFactory


def test_a_line_chart_escapes_its_label_and_draws_the_points():
    svg = str(line_chart([(1, 2.0), (2, 1.0)], label='<script>"x"</script>'))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert 'd="M56.0,' in svg and " L" in svg


def test_an_empty_chart_draws_no_line():
    assert 'class="line" d=""' in str(line_chart([], label="loss"))


@pytest.fixture
def job(user, base_model, dataset):
    return FineTuneJob.objects.create(
        user=user, base_model=base_model, dataset=dataset, dataset_revision="a" * 40, output_name="out",
        status="running", step=2, total_steps=4, loss=1.25, learning_rate=5e-4,
        history=[{"step": 1, "loss": 2.0, "lr": 1e-3}, {"step": 2, "loss": 1.25, "lr": 5e-4}])


def test_the_owner_sees_progress_curves_and_a_cancel_button(client, user, job):
    client.force_login(user)
    page = client.get(f"/finetune/{job.pk}/").content.decode()
    assert 'id="cancel"' in page and "1.2500" in page and page.count('class="chart"') == 2
    assert client.get(f"/finetune/{job.pk}/charts/").content.decode().count("<svg") == 2


def test_a_moderator_may_open_and_stop_a_members_job(client, staff, job):
    client.force_login(staff)
    assert client.get(f"/finetune/{job.pk}/").status_code == 200
    assert client.post(f"/finetune/{job.pk}/cancel/").status_code == 302
    job.refresh_from_db()
    assert job.cancel_requested


def test_a_finished_jobs_draft_model_is_called_a_draft_with_a_publish_button(client, user, job):
    draft = ResourceFactory(owner=user.username, name="out", submitter=user, is_published=False)
    FineTuneJob.objects.filter(pk=job.pk).update(status="succeeded", output_model=draft)
    client.force_login(user)
    page = client.get(f"/finetune/{job.pk}/").content.decode()
    assert "Saved as a draft" in page and "Published as" not in page and f"{draft.get_absolute_url()}publish/" in page
    type(draft).objects.filter(pk=draft.pk).update(is_published=True)
    page = client.get(f"/finetune/{job.pk}/").content.decode()
    assert "Published as" in page and "publish/" not in page


def test_a_base_model_and_a_training_dataset_offer_a_fine_tune(client, user, base_model, dataset):
    client.force_login(user)
    model_page = client.get(base_model.get_absolute_url()).content.decode()
    assert f'href="/finetune/new/?base_model={base_model.repo_id}"' in model_page
    dataset_page = client.get(dataset.get_absolute_url()).content.decode()
    assert f'href="/finetune/new/?dataset={dataset.repo_id}"' in dataset_page
    form = client.get(f"/finetune/new/?dataset={dataset.repo_id}").content.decode()
    assert f'<option value="{dataset.repo_id}" selected>' in form


def test_start_again_fills_the_form_with_the_jobs_settings(client, user, job, base_model, dataset):
    FineTuneJob.objects.filter(pk=job.pk).update(params={"lora_r": 16, "learning_rate": 0.0003})
    client.force_login(user)
    page = client.get(f"/finetune/{job.pk}/").content.decode()
    again = html.unescape(re.search(r'href="([^"]+)" id="start-again"', page).group(1))
    form = client.get(again).content.decode()
    assert re.search(r'name="lora_r" value="16"', form) and re.search(r'name="learning_rate" value="0.0003"', form)
    assert f'<option value="{base_model.repo_id}" selected>' in form
    assert f'<option value="{dataset.repo_id}" selected>' in form


def test_the_job_page_names_its_settings_and_sends_the_result_against_its_base(client, user, job, base_model):
    output = ResourceFactory(owner=user.username, name="out", submitter=user)
    FineTuneJob.objects.filter(pk=job.pk).update(params={"lora_r": 16}, eta_s=3725, output_model=output)
    client.force_login(user)
    page = client.get(f"/finetune/{job.pk}/").content.decode()
    assert "<dt>LoRA rank (r)</dt><dd>16</dd>" in page
    assert '<dd id="eta">1:02:05</dd>' in page
    assert f"&amp;b={base_model.repo_id}" in page
    assert f'href="{base_model.get_absolute_url()}"' in page


def test_the_form_says_how_to_make_a_dataset_trainable_when_none_is(client, user, base_model):
    client.force_login(user)
    page = client.get("/finetune/new/").content.decode()
    assert 'id="nothing-to-train"' in page and "<code>train_format</code>" in page
    assert 'id="finetune-form"' not in page
