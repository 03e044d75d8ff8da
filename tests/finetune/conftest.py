import json

import pytest

from models_hub.models import Resource
from models_hub.repos.commits import Changes, commit_files
from models_hub.repos.storage import spool_bytes, store
from models_hub.services import save_resource
from tests.factories import runnable_model

BASE = "HuggingFaceTB/SmolLM2-135M-Instruct"
TRAIN_KEYS = ('train_format: prompt_completion\ntrain_file: data/train.jsonl\n'
              'train_prompt: "Translate into Chinese: {en}"\ntrain_completion: "{zh}"\n')
ROWS = [{"en": f"I have {n} cats.", "zh": f"我有{n}只猫。"} for n in range(1, 25)]


def jsonl(rows) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def make_dataset(name: str = "pairs", *, keys: str = TRAIN_KEYS, files: dict[str, bytes] | None = None,
                 owner=None) -> Resource:
    """A dataset repository with a card declaring its training format, and its data file."""
    card = f"---\nlicense: cc-by-4.0\n{keys}---\n\nPairs for tests.\n"
    resource = save_resource(user=owner, data={"kind": "dataset", "owner": "acme", "name": name,
                                               "title": name, "card": card, "submitter": owner})
    files = {"data/train.jsonl": jsonl(ROWS)} if files is None else files
    if files:
        commit_files(resource=resource, user=None, title="data", check_permission=False,
                     changes=Changes(additions=[(p, store(spool_bytes(d, label=p))) for p, d in files.items()]))
    return resource


@pytest.fixture
def base_model(db):
    return runnable_model(BASE)


@pytest.fixture
def dataset(db):
    return make_dataset()


TINY = {"max_steps": 4, "batch_size": 2, "max_seq_len": 64, "lora_r": 4, "lora_alpha": 8, "learning_rate": 1e-3}


def payload(**overrides) -> dict:
    return {"base_model": BASE, "dataset": "acme/pairs", "method": "lora", "params": dict(TINY),
            "output_name": "pairs-lora", **overrides}
