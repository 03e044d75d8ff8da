"""OpenAI's presence and frequency penalties, on the engine: subtracted from the scores of tokens
the output already holds (once, and per time), not the prompt's."""
import json

import pytest
import torch

from playground.engine.rows import GenerationRequest, Row

pytestmark = pytest.mark.django_db(transaction=True)  # the worker's heartbeat uses its own connection
MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"


class FakePending:
    def __init__(self, request):
        self.request = request


def row(**params) -> Row:
    request = GenerationRequest(prompt_ids=[7, 8], **params)
    return Row(FakePending(request), tokenizer=None, eos_ids=set(), device="cpu")


def test_the_penalties_lower_the_scores_of_tokens_already_in_the_output():
    r = row(presence_penalty=0.5, frequency_penalty=1.0)
    r.generated = [3, 3, 5]
    logits = torch.zeros(10)
    assert r.next_token(logits) in range(10)
    assert logits[3] == -(0.5 + 2 * 1.0) and logits[5] == -(0.5 + 1.0)
    assert logits[7] == 0 and logits[0] == 0  # the prompt's tokens, and unused ones, are untouched


def test_a_negative_penalty_favours_repeating_and_the_greedy_pick_follows():
    r = row(presence_penalty=-2.0)
    r.generated = [4]
    logits = torch.zeros(10)
    logits[1] = 1.0
    assert r.next_token(logits) == 4


def test_the_v1_api_takes_the_penalties_and_the_job_keeps_them(v1):
    from playground.models import GenerationJob

    response = v1.post("/v1/chat/completions", json.dumps({
        "model": MODEL, "max_tokens": 8, "temperature": 0, "frequency_penalty": 1.5, "presence_penalty": 0.5,
        "messages": [{"role": "user", "content": "Count: one one one one"}]}), content_type="application/json")
    assert response.status_code == 200, response.content
    assert {"frequency_penalty": 1.5, "presence_penalty": 0.5}.items() <= GenerationJob.objects.get().params.items()
