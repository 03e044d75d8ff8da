"""A moderator makes a model repository runnable; the engine loads its files at that revision."""
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from models_hub import services
from models_hub.repos.materialise import fetch_repository
from models_hub.repos.runtimes import make_runnable
from playground.engine import RuntimeSpec
from playground.engine.loading import load_model

from .repo_helpers import commit

pytestmark = pytest.mark.django_db


@pytest.fixture
def tiny_model_files(tmp_path_factory, smollm_tokenizer_dir) -> dict[str, bytes]:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    folder = tmp_path_factory.mktemp("tiny")
    torch.manual_seed(0)
    LlamaForCausalLM(LlamaConfig(vocab_size=49152, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                 num_attention_heads=2, num_key_value_heads=1, tie_word_embeddings=True)
                     ).save_pretrained(folder)
    files = {p.name: p.read_bytes() for p in folder.iterdir()}
    for name in ("tokenizer.json", "tokenizer_config.json"):
        files[name] = (smollm_tokenizer_dir / name).read_bytes()
    return files


@pytest.fixture
def repo(user):
    return services.save_resource(user=user, data={"kind": "model", "name": "tiny", "title": "Tiny"})


def test_members_cannot_choose_what_workers_run(repo, user):
    commit(repo, user, {"config.json": b"{}"})
    with pytest.raises(PermissionDenied):
        make_runnable(user=user, resource=repo, revision="main")


def test_a_revision_without_a_model_is_refused(repo, staff):
    with pytest.raises(ValidationError) as info:
        make_runnable(user=staff, resource=repo, revision="main")
    assert "revision" in info.value.message_dict


def test_the_runtime_pins_the_full_sha_and_the_engine_loads_those_files(repo, user, staff, tmp_path,
                                                                        tiny_model_files):
    first = commit(repo, user, tiny_model_files)
    runtime = make_runnable(user=staff, resource=repo, revision=first.sha[:8])
    commit(repo, user, {"config.json": b"not json"})  # a later, broken commit does not matter
    spec = RuntimeSpec.from_dict(runtime.spec())
    assert spec == RuntimeSpec("repo", f"model/{repo.repo_id}", "", first.sha)
    model, tokenizer = load_model(spec, cache_dir=tmp_path, device="cpu", fetch_repo=fetch_repository)
    out = model.generate(**tokenizer("Hi", return_tensors="pt"), max_new_tokens=2, do_sample=False)
    assert out.shape[1] == len(tokenizer("Hi")["input_ids"]) + 2
    assert (tmp_path / "repos" / first.sha / ".complete").exists()


def test_the_moderator_form_makes_it_runnable(repo, user, staff, client):
    head = commit(repo, user, {"config.json": b"{}"})
    client.force_login(staff)
    response = client.post(f"{repo.get_absolute_url()}runnable/", {"revision": head.sha})
    assert response.status_code == 302
    repo.runtime.refresh_from_db()
    assert (repo.runtime.source, repo.runtime.revision) == ("repo", head.sha)


def test_materialising_never_writes_outside_the_directory(repo, user, tmp_path):
    head = commit(repo, user, {"a/b.txt": b"x"})
    fetch_repository(f"model/{repo.repo_id}", head.sha, tmp_path / "out")
    assert (tmp_path / "out" / "a" / "b.txt").read_bytes() == b"x"
    assert Path(tmp_path / "out").resolve() in (tmp_path / "out" / "a" / "b.txt").resolve().parents
