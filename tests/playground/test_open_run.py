"""A saved run opened in the playground ("Open in playground"): its conversation and settings,
for its owner by id and for anyone signed in by its share link."""
import json

import pytest
from django.test import Client

from playground import services
from playground.models import GenerationJob
from tests.factories import UserFactory, runnable_model

pytestmark = pytest.mark.django_db
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "A colour?"}]


@pytest.fixture
def chat_run(user):
    return GenerationJob.objects.create(user=user, resource=runnable_model(), mode="chat", messages=MESSAGES,
                                        output="Blue.", status="succeeded", params={"temperature": 0.3, "seed": 7},
                                        prompt_tokens=20, completion_tokens=2)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def opened(response) -> dict:
    assert response.status_code == 200
    return json.loads(response.content.decode().split('id="pg-opened" type="application/json">')[1].split("</script>")[0])


def test_the_owner_opens_a_chat_run_with_its_conversation_and_settings(user, chat_run):
    kept = opened(signed_in(user).get(f"/playground/?run={chat_run.pk}"))
    assert kept["model"] == chat_run.resource.repo_id and kept["params"] == {"temperature": 0.3, "seed": 7}
    assert kept["system"] == "Be brief."
    assert kept["history"] == MESSAGES[1:] + [{"role": "assistant", "content": "Blue."}]
    [pair] = kept["pairs"]
    assert (pair["text"], pair["before"]) == ("A colour?", 2)
    assert pair["result"]["url"] == chat_run.get_absolute_url() and pair["result"]["output"] == "Blue."


def test_a_completion_run_opens_as_its_prompt_and_output(user):
    job = GenerationJob.objects.create(user=user, resource=runnable_model(), mode="completion", prompt="Once",
                                       output=" upon a time", status="succeeded", params={})
    kept = opened(signed_in(user).get(f"/playground/?run={job.pk}"))
    assert kept["mode"] == "completion" and kept["history"] == []
    assert kept["pairs"][0]["text"] == "Once" and kept["pairs"][0]["result"]["output"] == " upon a time"


def test_a_failed_runs_answer_is_not_part_of_the_history(user, chat_run):
    GenerationJob.objects.filter(pk=chat_run.pk).update(status="failed", output="")
    kept = opened(signed_in(user).get(f"/playground/?run={chat_run.pk}"))
    assert kept["history"] == MESSAGES[1:3] and kept["pairs"][0]["result"]["status"] == "failed"


def test_a_shared_run_opens_for_another_member_by_its_link_not_by_id(user, chat_run):
    other = signed_in(UserFactory())
    assert other.get(f"/playground/?run={chat_run.pk}").status_code == 404
    services.set_public(user=user, job=chat_run, public=True)
    chat_run.refresh_from_db()
    kept = opened(other.get(f"/playground/?shared={chat_run.share_token}"))
    assert kept["pairs"][0]["result"]["url"] == chat_run.get_share_url()


@pytest.mark.parametrize("query", ["run=abc", "run=", "run=99999999999999999999", "run=-1", "shared=", "shared=nope"])
def test_a_run_not_to_be_had_is_a_404(user, chat_run, query):
    assert signed_in(user).get(f"/playground/?{query}").status_code == 404


def test_the_run_page_offers_it_to_the_owner_and_to_members_it_is_shared_with(client, user, chat_run):
    assert f'href="/playground/?run={chat_run.pk}"' in signed_in(user).get(chat_run.get_absolute_url()).content.decode()
    services.set_public(user=user, job=chat_run, public=True)
    chat_run.refresh_from_db()
    shared_page = signed_in(UserFactory()).get(chat_run.get_share_url()).content.decode()
    assert f'href="/playground/?shared={chat_run.share_token}"' in shared_page
    assert "open-in-playground" not in client.get(chat_run.get_share_url()).content.decode()  # visitors log in first


def test_a_run_whose_model_no_longer_runs_says_so(user, chat_run):
    chat_run.resource.runtime.__class__.objects.filter(resource=chat_run.resource).update(enabled=False)
    page = signed_in(user).get(f"/playground/?run={chat_run.pk}").content.decode()
    assert "no longer runs here" in page


def test_a_run_asked_after_an_assistants_turn_opens_as_it_stands(user):
    prefilled = MESSAGES[:3]  # ends with the assistant's "Hello!", as a client's prefill may
    job = GenerationJob.objects.create(user=user, resource=runnable_model(), mode="chat", messages=prefilled,
                                       output=" How can I help?", status="succeeded", params={})
    kept = opened(signed_in(user).get(f"/playground/?run={job.pk}"))
    assert kept["pairs"] == [] and kept["history"] == MESSAGES[1:3] + [
        {"role": "assistant", "content": " How can I help?"}]
