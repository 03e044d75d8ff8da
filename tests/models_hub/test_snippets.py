"""The "use this model" snippets are code that visitors copy and run: `task` and `library` have
Hugging Face's shapes wherever they are set, and every value in a snippet is a string literal."""
import re

import pytest

from models_hub.models import Relation, Resource
from tests.factories import ResourceFactory, UserFactory, runnable_model

from .repo_helpers import commit

pytestmark = pytest.mark.django_db

EVIL_TASK = 'text-generation")\nimport os; os.system("x")#'


def create(client, **fields):
    return client.post("/api/v1/resources/", {"kind": "model", "name": "m", "title": "M", **fields}, format="json")


@pytest.mark.parametrize("field,value", [("task", EVIL_TASK), ("task", "Text Generation"), ("task", "a--b"),
                                         ("library", "transformers; rm -rf ~"), ("library", 'x"y')])
def test_the_api_refuses_task_and_library_of_the_wrong_shape(as_user, field, value):
    response = create(as_user, **{field: value})
    assert response.status_code == 400 and field in response.json()
    assert not Resource.objects.exists()


def test_the_form_refuses_a_task_of_the_wrong_shape(client, user):
    client.force_login(user)
    response = client.post("/hub/new/", {"kind": "model", "name": "m", "title": "M", "task": EVIL_TASK})
    assert response.status_code == 200 and response.context["form"].errors["task"]
    assert not Resource.objects.exists()


@pytest.mark.parametrize("line", ['pipeline_tag: "text-generation\\")\\nimport os; os.system(\\"x\\")#"',
                                  "library_name: x y", f"pipeline_tag: {'a' * 61}"])
def test_the_card_front_matter_is_held_to_the_same_shapes(as_user, line):
    response = create(as_user, card=f"---\n{line}\n---\nbody")
    assert response.status_code == 400 and "card" in response.json()
    assert not Resource.objects.exists()


def test_hugging_face_tasks_and_libraries_are_accepted(as_user):
    response = create(as_user, task="text2text-generation", library="sentence-transformers")
    assert response.status_code == 201, response.json()
    response = create(as_user, name="n", card="---\npipeline_tag: fill-mask\nlibrary_name: llama.cpp\n---\n")
    assert (response.json()["task"], response.json()["library"]) == ("fill-mask", "llama.cpp")


def snippet_code(page: str) -> str:
    return "\n".join(re.findall(r"<code>(.*?)</code>", page, re.S))


def test_a_stored_hostile_task_stays_one_string_literal_in_the_snippet(client):
    resource = ResourceFactory(task=EVIL_TASK)  # a row written before validation
    code = snippet_code(client.get(resource.get_absolute_url()).content.decode())
    assert 'pipeline("text-generation\\")\\nimport os; os.system(\\"x\\")#", model="acme/' in code
    assert not any(line.startswith("import os") for line in code.splitlines())


def test_snippet_values_escape_html_and_invisible_characters(client):
    resource = ResourceFactory(task="a</code><b>x\u202e")
    code = snippet_code(client.get(resource.get_absolute_url()).content.decode())
    assert 'pipeline("a\\u003c/code\\u003e\\u003cb\\u003ex\\u202e"' in code


def test_the_runnable_snippets_quote_the_model_and_the_url(client):
    code = snippet_code(client.get(runnable_model().get_absolute_url()).content.decode())
    assert 'model="HuggingFaceTB/SmolLM2-135M-Instruct",' in code
    assert 'base_url="http://testserver/v1"' in code and re.search(r"curl http://testserver/api/v1/resources/\d+/", code)


def test_a_catalogue_entry_without_files_loads_from_the_hugging_face_hub(client):
    code = snippet_code(client.get(ResourceFactory(name="gpt2").get_absolute_url()).content.decode())
    assert 'pipeline("text-generation", model="acme/gpt2")' in code and "HF_ENDPOINT" not in code


def test_a_repository_with_files_points_the_libraries_at_this_site(client, user):
    resource = ResourceFactory(name="tiny", submitter=user)
    commit(resource, user, {"config.json": b"{}", "model.safetensors": b"x"})
    code = snippet_code(client.get(resource.get_absolute_url()).content.decode())
    assert 'os.environ["HF_ENDPOINT"] = "http://testserver"' in code
    assert code.index("HF_ENDPOINT") < code.index("from transformers import pipeline")
    assert 'pipeline("text-generation", model="acme/tiny")' in code and "HF_TOKEN" not in code
    assert "HF_ENDPOINT=http://testserver hf download acme/tiny --local-dir tiny" in code


def test_a_gguf_only_model_names_its_file(client, user):
    resource = ResourceFactory(name="q", submitter=user)
    commit(resource, user, {"README.md": b"# q", "weights/q4.GGUF": b"GGUF", "z.gguf": b"GGUF"})
    code = snippet_code(client.get(resource.get_absolute_url()).content.decode())
    assert 'AutoModelForCausalLM.from_pretrained("acme/q", gguf_file="weights/q4.GGUF")' in code
    assert code.startswith("# pip install transformers torch gguf\n")  # transformers reads GGUF with the gguf package


def test_a_draft_dataset_asks_for_a_token(client, user):
    resource = ResourceFactory(kind="dataset", name="corpus", submitter=user, is_published=False)
    commit(resource, user, {"train.csv": b"a,b\n1,2\n"})
    client.force_login(user)
    code = snippet_code(client.get(resource.get_absolute_url()).content.decode())
    assert 'os.environ["HF_TOKEN"] = "YOUR_TOKEN"' in code and 'load_dataset("acme/corpus")' in code
    assert "HF_TOKEN=YOUR_TOKEN hf download acme/corpus --repo-type dataset" in code


def test_an_adapter_loads_onto_its_base_model(client, user):
    base = ResourceFactory(name="base", submitter=user)
    commit(base, user, {"base.Q4_1.gguf": b"GGUF"})
    adapter = ResourceFactory(name="lora", submitter=user)
    commit(adapter, user, {"adapter_config.json": b"{}", "adapter_model.safetensors": b"x"})
    Relation.objects.create(source=adapter, target=base, kind=Relation.Kind.BASE_MODEL)
    code = snippet_code(client.get(adapter.get_absolute_url()).content.decode())
    assert 'base = AutoModelForCausalLM.from_pretrained("acme/base", gguf_file="base.Q4_1.gguf")' in code
    assert 'model = PeftModel.from_pretrained(base, "acme/lora")' in code
    assert code.startswith("# pip install peft transformers gguf\n")


def test_an_adapter_does_not_name_a_base_the_visitor_cannot_see(client, user):
    base = ResourceFactory(name="secret-base", submitter=user, is_published=False)
    adapter = ResourceFactory(name="lora", submitter=user)
    commit(adapter, user, {"adapter_config.json": b"{}"})
    Relation.objects.create(source=adapter, target=base, kind=Relation.Kind.BASE_MODEL)
    code = snippet_code(client.get(adapter.get_absolute_url()).content.decode())
    assert "secret-base" not in code and "PeftModel" not in code


def test_a_bad_name_is_refused_in_the_readers_language(as_user):
    response = as_user.post("/api/v1/resources/", {"kind": "model", "name": "-bad", "title": "M"},
                            format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400 and response.json()["name"] == ["只能使用字母、数字、“.”、“_”和“-”，并以字母或数字开头。"]


def test_a_name_the_hugging_face_client_refuses_gets_a_note_not_broken_code(client):
    member = UserFactory(username="张三")
    resource = ResourceFactory(owner="张三", name="tiny", submitter=member)
    commit(resource, member, {"config.json": b"{}"})
    page = client.get(resource.get_absolute_url()).content.decode()
    assert 'id="snip-unnamed"' in page and "HF_ENDPOINT" not in snippet_code(page)


def test_an_adapter_whose_base_has_no_files_here_gets_no_peft_snippet(client, user):
    base = ResourceFactory(name="catalogue-only")
    adapter = ResourceFactory(name="lora", submitter=user)
    commit(adapter, user, {"adapter_config.json": b"{}"})
    Relation.objects.create(source=adapter, target=base, kind=Relation.Kind.BASE_MODEL)
    assert "PeftModel" not in snippet_code(client.get(adapter.get_absolute_url()).content.decode())


def test_a_published_adapter_on_a_draft_base_asks_for_a_token(client, user):
    base = ResourceFactory(name="base", submitter=user, is_published=False)
    commit(base, user, {"config.json": b"{}"})
    adapter = ResourceFactory(name="lora", submitter=user)
    commit(adapter, user, {"adapter_config.json": b"{}"})
    Relation.objects.create(source=adapter, target=base, kind=Relation.Kind.BASE_MODEL)
    client.force_login(user)
    code = snippet_code(client.get(adapter.get_absolute_url()).content.decode())
    assert "PeftModel" in code and 'os.environ["HF_TOKEN"] = "YOUR_TOKEN"' in code
