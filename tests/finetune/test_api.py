"""The fine-tuning API: submit (everything checked before queuing), read, list, cancel, quotas."""
import pytest

from finetune import services
from finetune.models import FineTuneJob
from models_hub.repos.commits import storage_used
from tests.conftest import client_for
from tests.factories import ResourceFactory, UserFactory

from .conftest import TINY, jsonl, make_dataset, payload

URL = "/api/v1/finetunes/"


def test_submit_queues_a_job_with_the_datasets_revision_pinned(as_user, user, base_model, dataset,
                                                               django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user.post(URL, payload(), format="json")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["status"] == "queued" and body["output_name"] == "pairs-lora" and body["output_model"] is None
    assert set(body["progress"]) >= {"step", "total_steps", "loss", "lr", "examples_per_s", "eta_s"}
    job = FineTuneJob.objects.get(pk=body["id"])
    assert job.dataset_revision == dataset.commits.order_by("-id").first().sha
    assert job.train_spec["format"] == "prompt_completion"
    assert job.params["max_steps"] == 4 and job.params["seed"] == 42  # asked for, and the defaults
    assert job.dispatched_at is not None


@pytest.mark.django_db(transaction=True)  # the job is queued when the request's transaction commits
def test_a_broker_lost_after_the_check_is_503_and_fails_the_job(as_user, base_model, dataset, lose_the_broker_on_commit):
    lose_the_broker_on_commit(services)
    assert as_user.post(URL, payload(), format="json").status_code == 503
    job = FineTuneJob.objects.get()
    assert job.status == "failed" and job.error == "The training queue is unavailable."


@pytest.mark.parametrize("name, value", [
    ("learning_rate", 1.0), ("lora_r", 0), ("lora_alpha", 5000), ("lora_dropout", 0.9), ("batch_size", 0),
    ("max_seq_len", 8), ("max_steps", 0), ("epochs", -1), ("seed", -1), ("max_seq_len", "many"),
])
def test_a_parameter_out_of_range_is_a_400_naming_it(as_user, base_model, dataset, name, value):
    params = {k: v for k, v in TINY.items() if not (name == "epochs" and k == "max_steps")}
    response = as_user.post(URL, payload(params={**params, name: value}), format="json")
    assert response.status_code == 400
    assert name in response.json()["params"]
    assert not FineTuneJob.objects.exists()


def test_max_steps_and_epochs_together_is_a_400(as_user, base_model, dataset):
    response = as_user.post(URL, payload(params={**TINY, "epochs": 1}), format="json")
    assert response.status_code == 400 and "max_steps" in response.json()["params"]


@pytest.mark.parametrize("keys, files, named", [
    ("license: mit\n", None, "train_format"),
    ("train_format: prompt_completion\ntrain_file: data/missing.jsonl\n"
     'train_prompt: "{en}"\ntrain_completion: "{zh}"\n', None, "train_file"),
    ("train_format: prompt_completion\ntrain_file: data/train.jsonl\n"
     'train_prompt: "{english}"\ntrain_completion: "{zh}"\n', None, "train_prompt"),
    ("train_format: messages\ntrain_file: data/train.jsonl\n", None, "train_messages"),
    ("train_format: text\ntrain_file: data/train.jsonl\ntrain_text: \"{en}\"\n",
     {"data/train.jsonl": b'{"en": "a"}\n{broken\n'}, "train_file"),
])
def test_a_dataset_that_does_not_fit_its_declaration_is_a_400_naming_the_key(as_user, base_model, keys, files,
                                                                            named):
    make_dataset("bad", keys=keys, files=files)
    response = as_user.post(URL, payload(dataset="acme/bad"), format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["dataset"] and named in response.json()["dataset"][0]
    assert not FineTuneJob.objects.exists()


def test_an_unknown_or_unrunnable_base_model_is_a_400(as_user, base_model, dataset):
    ResourceFactory(owner="acme", name="no-runtime")
    for repo_id in ("nobody/nothing", "acme/no-runtime"):
        response = as_user.post(URL, payload(base_model=repo_id), format="json")
        assert response.status_code == 400 and "base_model" in response.json()


def test_an_unknown_dataset_is_a_400(as_user, base_model):
    response = as_user.post(URL, payload(dataset="acme/nope"), format="json")
    assert response.status_code == 400 and "dataset" in response.json()


@pytest.mark.parametrize("name", ["has space", "../up", "-leading", "x" * 101, ""])
def test_a_bad_output_name_is_a_400(as_user, base_model, dataset, name):
    response = as_user.post(URL, payload(output_name=name), format="json")
    assert response.status_code == 400 and "output_name" in response.json()


def test_an_output_name_that_collides_is_a_400(as_user, user, base_model, dataset):
    ResourceFactory(owner=user.username, name="taken")
    response = as_user.post(URL, payload(output_name="taken"), format="json")
    assert response.status_code == 400 and "output_name" in response.json()
    assert as_user.post(URL, payload(output_name="mine"), format="json").status_code == 202
    FineTuneJob.objects.update(status="succeeded")  # the quota is not what refuses the second
    response = as_user.post(URL, payload(output_name="mine"), format="json")
    assert response.status_code == 400 and "output_name" in response.json()


def test_a_job_whose_result_could_not_fit_the_members_storage_is_refused(as_user, user, base_model, dataset,
                                                                          settings):
    settings.FINETUNE_OUTPUT_RESERVE_BYTES = 1000
    settings.HUB_USER_QUOTA_BYTES = storage_used(user) + 999
    response = as_user.post(URL, payload(), format="json")
    assert response.status_code == 400 and "storage" in response.json()["output_name"][0]
    settings.HUB_USER_QUOTA_BYTES = storage_used(user) + 1000
    assert as_user.post(URL, payload(), format="json").status_code == 202


def test_a_failed_job_frees_its_output_name(as_user, base_model, dataset):
    assert as_user.post(URL, payload(), format="json").status_code == 202
    FineTuneJob.objects.update(status="failed")
    assert as_user.post(URL, payload(), format="json").status_code == 202


def test_concurrent_jobs_are_limited_per_member(as_user, base_model, dataset, settings):
    settings.FINETUNE_MAX_ACTIVE_JOBS = 1
    assert as_user.post(URL, payload(output_name="a"), format="json").status_code == 202
    response = as_user.post(URL, payload(output_name="b"), format="json")
    assert response.status_code == 429 and "Retry-After" in response.headers


def test_jobs_per_day_are_limited_per_member(as_user, base_model, dataset, settings):
    settings.FINETUNE_MAX_ACTIVE_JOBS = 10
    settings.FINETUNE_JOBS_PER_DAY = 2
    for name in ("a", "b"):
        assert as_user.post(URL, payload(output_name=name), format="json").status_code == 202
    assert as_user.post(URL, payload(output_name="c"), format="json").status_code == 429


def test_staff_are_exempt_from_the_quotas(as_staff, base_model, dataset, settings):
    settings.FINETUNE_MAX_ACTIVE_JOBS = 1
    settings.FINETUNE_JOBS_PER_DAY = 1
    for name in ("a", "b", "c"):
        assert as_staff.post(URL, payload(output_name=name), format="json").status_code == 202


def test_a_job_is_its_owners_only(as_user, as_other, other_user, client, base_model, dataset):
    job_id = as_user.post(URL, payload(), format="json").json()["id"]
    assert as_other.get(f"{URL}{job_id}/").status_code == 404
    assert as_other.post(f"{URL}{job_id}/cancel/").status_code == 404
    assert as_other.get(f"{URL}{job_id}/stream/").status_code == 404
    client.force_login(other_user)
    assert client.get(f"/finetune/{job_id}/").status_code == 404
    assert client.post(f"/finetune/{job_id}/cancel/").status_code == 404
    assert as_other.get(URL).json()["count"] == 0
    assert as_user.get(f"{URL}{job_id}/").json()["id"] == job_id


def test_anonymous_gets_401(api, base_model, dataset):
    assert api.post(URL, payload(), format="json").status_code == 401
    assert api.get(URL).status_code == 401


def test_cancelling_a_queued_job_ends_it_at_once(as_user, base_model, dataset):
    job_id = as_user.post(URL, payload(), format="json").json()["id"]
    response = as_user.post(f"{URL}{job_id}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"


def test_a_moderator_may_stop_anyones_job(as_user, as_staff, base_model, dataset):
    job_id = as_user.post(URL, payload(), format="json").json()["id"]
    assert as_staff.post(f"{URL}{job_id}/cancel/").json()["status"] == "cancelled"


@pytest.mark.parametrize("n", [2, 12])
def test_the_list_query_count_does_not_grow(base_model, dataset, n, django_assert_max_num_queries):
    owner = UserFactory()
    for i in range(n):
        FineTuneJob.objects.create(user=owner, base_model=base_model, dataset=dataset, dataset_revision="0" * 40,
                                   output_name=f"out-{i}", status="failed")
    client = client_for(owner)
    with django_assert_max_num_queries(6):
        body = client.get(f"{URL}?mine=1").json()
    assert body["count"] == n


@pytest.mark.parametrize("n", [2, 12])
def test_the_jobs_page_query_count_does_not_grow(client, base_model, dataset, n, django_assert_max_num_queries):
    owner = UserFactory()
    for i in range(n):
        FineTuneJob.objects.create(user=owner, base_model=base_model, dataset=dataset, dataset_revision="0" * 40,
                                   output_name=f"out-{i}", status="failed")
    client.force_login(owner)
    with django_assert_max_num_queries(8):
        response = client.get("/finetune/")
    assert response.status_code == 200 and response.content.count(b'class="row"') == n


def test_the_page_form_submits_the_same_job(client, user, base_model, dataset):
    client.force_login(user)
    page = client.get("/finetune/new/")
    assert page.status_code == 200 and b"acme/pairs" in page.content
    response = client.post("/finetune/new/", {"base_model": base_model.repo_id, "dataset": "acme/pairs",
                                              "output_name": "from-form", "max_steps": 3, "batch_size": 2,
                                              "max_seq_len": 64})
    job = FineTuneJob.objects.get()
    assert response.status_code == 302 and response.url == f"/finetune/{job.pk}/"
    assert job.params["max_steps"] == 3 and job.output_name == "from-form"


def test_the_page_form_shows_errors_naming_the_field(client, user, base_model, dataset):
    client.force_login(user)
    response = client.post("/finetune/new/", {"base_model": base_model.repo_id, "dataset": "acme/pairs",
                                              "output_name": "x", "learning_rate": 5})
    assert response.status_code == 400
    assert "learning_rate" in response.context["form"].errors and not FineTuneJob.objects.exists()


def test_the_dataset_check_reads_only_the_head_of_a_large_file(as_user, base_model, settings):
    big = jsonl([{"en": f"row {i} " + "x" * 200, "zh": "行"} for i in range(6000)])  # > 1 MiB
    make_dataset("big", files={"data/train.jsonl": big + b'{"half a row'})
    assert as_user.post(URL, payload(dataset="acme/big"), format="json").status_code == 202
