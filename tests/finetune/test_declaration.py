"""A dataset whose card does not say how to train on it (anyone's, not only the owner's) is
trained on by declaring it in the request, as AutoTrain maps a dataset's columns."""
import pytest

from finetune.models import FineTuneJob

from .conftest import make_dataset, payload

pytestmark = pytest.mark.django_db
URL = "/api/v1/finetunes/"
DECLARED = {"train_format": "prompt_completion", "train_file": "data/train.jsonl",
            "train_prompt": "Translate into Chinese: {en}", "train_completion": "{zh}"}


@pytest.fixture
def plain(db):
    """A dataset of another member's, whose card declares nothing."""
    return make_dataset("plain", keys="")


def test_a_request_declares_how_to_read_a_plain_dataset(as_user, base_model, plain):
    response = as_user.post(URL, {**payload(dataset=plain.repo_id), **DECLARED}, format="json")
    assert response.status_code == 202, response.json()
    spec = FineTuneJob.objects.get().train_spec
    assert (spec["format"], spec["file"], spec["prompt"]) == ("prompt_completion", "data/train.jsonl",
                                                             "Translate into Chinese: {en}")


def test_without_a_declaration_a_plain_dataset_is_refused_naming_it(as_user, base_model, plain):
    response = as_user.post(URL, payload(dataset=plain.repo_id), format="json")
    assert response.status_code == 400 and "train_format" in response.json()["dataset"][0]


def test_a_declaration_needs_a_format_and_a_file(as_user, base_model, plain):
    response = as_user.post(URL, {**payload(dataset=plain.repo_id), "train_prompt": "{en}"}, format="json")
    assert response.status_code == 400 and set(response.json()) == {"train_format", "train_file"}


def test_a_declaration_that_does_not_fit_the_rows_names_its_field(as_user, base_model, plain):
    response = as_user.post(URL, {**payload(dataset=plain.repo_id), **DECLARED, "train_prompt": "{nope}"},
                            format="json")
    assert response.status_code == 400 and "nope" in response.json()["train_prompt"][0]
    assert not FineTuneJob.objects.exists()


def test_a_missing_file_names_train_file(as_user, base_model, plain):
    response = as_user.post(URL, {**payload(dataset=plain.repo_id), **DECLARED, "train_file": "data/none.jsonl"},
                            format="json")
    assert response.status_code == 400 and "data/none.jsonl" in response.json()["train_file"][0]


def test_the_page_form_takes_the_declaration(client, user, base_model, plain):
    client.force_login(user)
    page = client.get(f"/finetune/new/?dataset={plain.repo_id}").content.decode()
    assert f'<option value="{plain.repo_id}" selected>' in page and 'id="training-format"' in page
    response = client.post("/finetune/new/", {"base_model": base_model.repo_id, "dataset": plain.repo_id,
                                              "output_name": "from-form", "max_steps": 2, **DECLARED})
    assert response.status_code == 302, response.context["form"].errors
    assert FineTuneJob.objects.get().train_spec["completion"] == "{zh}"
