"""Odd input to the hub's API and forms is a 400 (or an empty list, or a 404), never a 500."""
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from models_hub import services
from models_hub.models import Resource
from tests.conftest import client_for
from tests.factories import ResourceFactory, UserFactory
from tests.models_hub.repo_helpers import commit

pytestmark = pytest.mark.django_db


def create(client, **fields):
    return client.post("/api/v1/resources/", {"kind": "model", "name": "m", "title": "M", **fields}, format="json")


def test_staff_without_an_owner_publish_under_their_username(as_staff, staff):
    response = create(as_staff)
    assert response.status_code == 201 and response.json()["repo_id"] == f"{staff.username}/m"


def test_staff_submitting_the_form_without_an_owner_publish_under_their_username(client, staff):
    client.force_login(staff)
    response = client.post("/hub/new/", {"kind": "model", "name": "m", "title": "M", "owner": ""})
    assert response.status_code == 302 and Resource.objects.get().repo_id == f"{staff.username}/m"


def test_staff_clearing_the_owner_in_the_form_keep_it(client, staff):
    resource = ResourceFactory(owner="acme", name="m")
    client.force_login(staff)
    response = client.post(f"{resource.get_absolute_url()}edit/",
                           {"kind": "model", "owner": "", "name": "m", "title": "M"})
    assert response.status_code == 302 and Resource.objects.get().repo_id == "acme/m"


def test_a_username_too_long_to_be_an_owner_is_a_400_on_owner():
    response = create(client_for(UserFactory(username="u" * 120)))
    assert response.status_code == 400 and "owner" in response.json()


def test_the_form_refuses_a_parameter_count_past_the_limit(client, user):
    client.force_login(user)
    response = client.post("/hub/new/", {"kind": "model", "name": "m", "title": "M", "parameters": "9" * 25})
    assert response.status_code == 200 and response.context["form"].errors["parameters"]


@pytest.mark.parametrize("field,value", [
    ("links", {"homepage": "https://example.com/" + "a" * 300}),
    ("arxiv_id", "2106.09685v" + "1" * 20),
    ("tags", ["x" * 41]), ("tags", ["a\tb"]),
    ("card", '---\ntags: ["a\\0b"]\n---\nbody'),
    ("card", '---\nlicense: "mit\\0"\n---\nbody'),
])
def test_values_the_database_cannot_hold_are_400s_naming_the_field(as_user, field, value):
    response = create(as_user, **{field: value})
    assert response.status_code == 400 and field in response.json(), response.json()
    assert not Resource.objects.exists()


def test_the_form_refuses_a_tag_with_a_nul(client, user):
    client.force_login(user)
    response = client.post("/hub/new/", {"kind": "model", "name": "m", "title": "M", "tags": "ok, a\x00b"})
    assert response.status_code == 200 and response.context["form"].errors["tags"]


def test_tags_with_spaces_and_capitals_are_normalised(as_user):
    assert create(as_user, tags=["Large Language Model"]).json()["tags"] == ["large-language-model"]


@pytest.mark.parametrize("query", ["page=abc", "page=0", "page=-1", "page=²"])
def test_a_page_that_is_not_a_number_is_a_400(api, query):
    response = api.get(f"/api/v1/resources/?{query}")
    assert response.status_code == 400 and "page" in response.json()


@pytest.mark.parametrize("param", ["task", "license", "library", "tag", "author"])
def test_a_nul_in_a_filter_is_refused_not_a_database_error(api, client, param):
    ResourceFactory()
    assert api.get(f"/api/v1/resources/?{param}=a%00").status_code == 400  # the site-wide guard
    assert client.get(f"/hub/?{param}=a%00").status_code == 400


def test_a_nul_in_a_resource_url_is_a_404(client):
    assert client.get("/hub/model/ac%00me/m/").status_code == 404


FUZZ = [
    {"name": "模型"}, {"name": "a" * 101}, {"name": ""}, {"title": "标题 🤗 \u202e"}, {"title": "x" * 201},
    {"title": "a\x00b"}, {"summary": "s" * 501}, {"parameters": 10**20}, {"parameters": "1e400"},
    {"parameters": 1.5}, {"languages": ["x" * 21]}, {"languages": "en"}, {"tags": "a"}, {"tags": [None]},
    {"links": "x"}, {"links": {"homepage": "javascript:alert(1)"}}, {"kind": None}, {"card": None},
    {"card": "---\n" + "a: b\n" * 2000 + "---\n"}, {"card": "---\n!!python/object:os.system x\n---\n"},
    {"card": "---\n? [a, b]\n: c\n---\n"}, {"card": "---\nlicense: !!binary aGk=\n---\n"},
    {"card": "---\na: 1\n---\n---\nb: 2\n---\n"}, {"card": "---\n" + "9" * 5000 + ": x\n---\n"},
    {"card": "---\nlicense: " + "9" * 5000 + "\n---\n"}, {"owner": "../x"},
]


@pytest.mark.parametrize("fields", FUZZ, ids=range(len(FUZZ)))
def test_odd_payloads_are_created_or_refused_never_a_500(as_staff, client, fields):
    response = create(as_staff, **fields)
    assert response.status_code in (201, 400), response.content
    if response.status_code == 201:
        assert client.get(response.json()["url"]).status_code == 200


def test_odd_patches_are_refused_never_a_500(as_user, user):
    resource = services.save_resource(user=user, data={"kind": "model", "name": "m", "title": "M"})
    for fields in FUZZ:
        response = as_user.patch(f"/api/v1/resources/{resource.pk}/", fields, format="json")
        assert response.status_code in (200, 400), (fields, response.content)


def test_a_non_ascii_username_too_long_once_percent_encoded_is_a_400_on_owner():
    response = create(client_for(UserFactory(username="模" * 50)))  # 50 characters, 450 in the URL
    assert response.status_code == 400 and "owner" in response.json()


def test_a_short_non_ascii_username_publishes_with_a_note_instead_of_client_code(client):
    response = create(client_for(UserFactory(username="模型")))
    assert response.status_code == 201
    page = client.get(response.json()["url"]).content.decode()
    assert 'id="snip-unnamed"' in page and "模型/m" not in "".join(re.findall(r"<code>(.*?)</code>", page, re.S))


def test_an_overlong_hub_search_is_400_naming_q(api, settings):
    settings.SEARCH_MAX_QUERY_LENGTH = 200
    assert api.get("/api/v1/resources/", {"q": "模型" * 100}).status_code == 200
    response = api.get("/api/v1/resources/", {"q": "模型" * 100 + "a"})
    assert response.status_code == 400 and "q" in response.json()


def test_the_hub_page_says_when_a_search_is_too_long_and_lists_everything(client, settings):
    settings.SEARCH_MAX_QUERY_LENGTH = 200
    listed = ResourceFactory()
    page = client.get("/hub/", {"q": "a" * 201}).content.decode()
    assert "at most 200 characters" in page and listed.repo_id in page


@pytest.mark.parametrize("path", ["/api/validate-yaml", "/api/repos/create"])
def test_json_nested_past_the_recursion_limit_is_a_400(path):
    client = client_for(UserFactory())
    response = client.generic("POST", path, b"[" * 100_000, content_type="application/json")
    assert response.status_code == 400


def test_a_commit_line_nested_past_the_recursion_limit_is_a_400(user):
    services.save_resource(user=user, data={"kind": "model", "name": "m", "title": "M"})
    response = client_for(user).generic("POST", f"/api/models/{user.username}/m/commit/main",
                                        b'{"key": "header", "value": ' + b"[" * 100_000 + b"\n",
                                        content_type="application/x-ndjson")
    assert response.status_code == 400


@pytest.mark.parametrize("header", ["bytes=" + "9" * 5000 + "-", "bytes=-" + "9" * 5000, "bytes=0-" + "9" * 5000])
def test_a_range_too_long_to_be_a_number_serves_the_whole_file(client, user, header):
    resource = services.save_resource(user=user, data={"kind": "model", "name": "m", "title": "M"})
    commit(resource, user, {"a.txt": b"hello"})
    response = client.get(f"/{user.username}/m/resolve/main/a.txt", HTTP_RANGE=header)
    assert response.status_code == 200 and response["Content-Length"] == "5" and "Content-Range" not in response


@pytest.mark.parametrize("field", ["title", "message"])
def test_a_nul_in_an_uploads_title_or_message_is_a_400_naming_it(client, user, field):
    services.save_resource(user=user, data={"kind": "model", "name": "m", "title": "M"})
    client.force_login(user)
    response = client.post(f"/hub/model/{user.username}/m/files/upload/",
                           {"files": SimpleUploadedFile("a.txt", b"hi"), field: "x\x00y"},
                           HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and list(response.json()["errors"]) == [field]


def test_a_lone_surrogate_in_a_commit_header_is_a_400(user):
    services.save_resource(user=user, data={"kind": "model", "name": "m", "title": "M"})
    line = b'{"key": "header", "value": {"summary": "\\ud800"}}\n'
    response = client_for(user).generic("POST", f"/api/models/{user.username}/m/commit/main", line,
                                        content_type="application/x-ndjson")
    assert response.status_code == 400


def test_a_lone_surrogate_in_an_api_body_is_a_400(user):
    response = client_for(user).generic("POST", "/api/v1/resources/", b'{"kind": "model", "name": "m", "title": "\\udc00"}',
                                        content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize("rest", ["resolve/main/a%0Db.txt", "resolve/ma%0Din/a.txt", "resolve/main/a%09b.txt"])
def test_a_control_character_in_a_hub_path_is_a_404_naming_it_without_it(client, user, rest):
    services.save_resource(user=user, data={"kind": "model", "name": "m", "title": "M"})
    response = client.get(f"/{user.username}/m/{rest}")
    assert response.status_code == 404 and not any(c in response["X-Error-Message"] for c in "\r\n\t")
