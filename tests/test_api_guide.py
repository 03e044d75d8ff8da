"""The API page: what a developer copies from it runs against this site."""
import ast
import html
import json
import re
import shlex

import pytest

from tests.factories import runnable_model

pytestmark = pytest.mark.django_db


def code_block(page: str, block_id: str) -> str:
    return html.unescape(re.search(rf'<pre id="{block_id}"[^>]*><code>(.*?)</code></pre>', page, re.S).group(1))


def test_the_openai_example_is_python_pointed_at_this_site(client):
    model = runnable_model()
    page = client.get("/api/").content.decode()
    tree = ast.parse(code_block(page, "api-openai"))  # it parses: it is Python
    literals = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)}
    assert "http://testserver/v1" in literals
    assert model.repo_id in literals


def test_the_curl_example_sends_json_naming_a_runnable_model(client):
    model = runnable_model()
    page = client.get("/api/").content.decode()
    words = shlex.split(code_block(page, "api-curl").replace("\\\n", " "))
    assert words[:3] == ["curl", "-N", "http://testserver/v1/chat/completions"]
    body = json.loads(words[words.index("-d") + 1])
    assert body["model"] == model.repo_id and body["stream"] is True


def test_the_main_menu_and_the_footer_lead_to_it(client):
    page = client.get("/").content.decode()
    assert 'href="/api/"' in page
    assert 'href="/api/#openai"' in page
    assert 'aria-current="page">API</a>' in client.get("/api/").content.decode()


def test_it_is_in_chinese_for_a_chinese_reader(client):
    page = client.get("/api/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "OpenAI 兼容 API" in page and "限制" in page
