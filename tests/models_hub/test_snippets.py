"""The "use this model" snippets are code that visitors copy and run: `task` and `library` have
Hugging Face's shapes wherever they are set, and every value in a snippet is a string literal."""
import re

import pytest

from models_hub.models import Resource
from tests.factories import ResourceFactory, runnable_model

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
