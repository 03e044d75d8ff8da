"""The OpenAI-compatible API, driven by the real `openai` package against a live server."""
import openai
import pytest
from openai import OpenAI

from core.services import create_token
from playground.models import GenerationJob
from tests.factories import UserFactory, runnable_model

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"


@pytest.fixture
def client(live_stack):
    runnable_model()
    _token, key = create_token(user=UserFactory(), name="openai")
    return OpenAI(base_url=f"{live_stack.base_url}/v1", api_key=key, max_retries=0, timeout=120)


def test_list_and_retrieve_models(client):
    assert [m.id for m in client.models.list().data] == [MODEL]
    assert client.models.retrieve(MODEL).id == MODEL


def test_chat_completion(client):
    reply = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Say hi."}],
                                           max_tokens=8, temperature=0)
    assert reply.object == "chat.completion" and reply.choices[0].message.role == "assistant"
    assert reply.choices[0].message.content
    assert reply.choices[0].finish_reason in ("stop", "length")
    assert reply.usage.completion_tokens <= 8 and reply.usage.total_tokens == (
        reply.usage.prompt_tokens + reply.usage.completion_tokens)
    # It ran through the same jobs and history.
    assert GenerationJob.objects.filter(source="openai", output=reply.choices[0].message.content).exists()


def test_streaming_chat_with_usage(client):
    chunks = list(client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Count to five."}], max_tokens=10, temperature=0,
        seed=1, stream=True, stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert chunks[0].object == "chat.completion.chunk" and chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["length"]
    assert chunks[-1].usage.completion_tokens == 10
    assert text == GenerationJob.objects.get(source="openai").output


def test_chat_reads_text_parts_and_the_developer_role_as_openai_clients_send_them(client):
    client.chat.completions.create(model=MODEL, max_tokens=2, temperature=0, messages=[
        {"role": "developer", "content": "Answer briefly."},
        {"role": "user", "content": [{"type": "text", "text": "Say"}, {"type": "text", "text": "hi."}]}])
    assert GenerationJob.objects.get(source="openai").messages == [
        {"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Say\nhi."}]


def test_completion_with_stop(client):
    result = client.completions.create(model=MODEL, prompt="1, 2, 3, 4,", max_tokens=12, temperature=0, stop=["7"])
    assert result.object == "text_completion" and "7" not in result.choices[0].text


def test_unknown_model_is_404(client):
    with pytest.raises(openai.NotFoundError) as error:
        client.chat.completions.create(model="nobody/nothing", messages=[{"role": "user", "content": "x"}])
    assert error.value.body["code"] == "model_not_found"


def test_bad_parameter_is_400_naming_it(client):
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}], temperature=3)
    assert error.value.body["param"] == "temperature"


def test_bad_key_is_401(live_stack):
    with pytest.raises(openai.AuthenticationError):
        OpenAI(base_url=f"{live_stack.base_url}/v1", api_key="not-a-key", max_retries=0).models.list()


def test_quota_is_429(client, settings):
    user = UserFactory()
    _token, key = create_token(user=user, name="q")
    resource = runnable_model()
    GenerationJob.objects.bulk_create([GenerationJob(user=user, resource=resource, mode="chat", params={},
                                                     status="running") for _ in range(4)])
    limited = OpenAI(base_url=str(client.base_url), api_key=key, max_retries=0)
    with pytest.raises(openai.RateLimitError):
        limited.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}])
