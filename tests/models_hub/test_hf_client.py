"""The real huggingface_hub client (and transformers) against a live server, HF_ENDPOINT=<site>."""
import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from core.services import create_token
from models_hub.models import Resource
from tests.factories import UserFactory

from .hub_live import RssSampler, run_client, write_random_file

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


@pytest.fixture
def member():
    user = UserFactory(username="alice")
    _token, key = create_token(user=user, name="hf")
    return user, key


def test_create_upload_list_and_download(hub_server, member, tmp_path):
    _user, key = member
    (tmp_path / "folder" / "sub").mkdir(parents=True)
    (tmp_path / "folder" / "config.json").write_text('{"a": 1}')
    (tmp_path / "folder" / "sub" / "notes.txt").write_text("hello\n")
    result = run_client(hub_server.base_url, f"""
        from huggingface_hub import HfApi, hf_hub_download, snapshot_download
        api = HfApi()
        url = api.create_repo("alice/tiny")
        again = api.create_repo("alice/tiny", exist_ok=True)
        ds = api.create_repo("alice/corpus", repo_type="dataset")
        api.create_repo("alice/secret", private=True)
        was_private = api.model_info("alice/secret").private
        api.update_repo_settings("alice/secret", private=False)
        now_private = api.model_info("alice/secret").private
        info1 = api.upload_file(path_or_fileobj=b"# Tiny\\n\\nA card.\\n", path_in_repo="README.md", repo_id="alice/tiny",
                                commit_message="Add the card")
        info2 = api.upload_folder(folder_path={str(tmp_path / 'folder')!r}, repo_id="alice/tiny",
                                  commit_message="Add a folder")
        api.upload_file(path_or_fileobj=b"q,a\\n1,2\\n", path_in_repo="data/train.csv", repo_id="alice/corpus",
                        repo_type="dataset")
        files = api.list_repo_files("alice/tiny")
        commits = api.list_repo_commits("alice/tiny")
        models = [m.id for m in api.list_models(author="alice", search="tin", sort="likes", limit=10)]
        datasets = [d.id for d in api.list_datasets(author="alice")]
        info = api.model_info("alice/tiny")
        dinfo = api.dataset_info("alice/corpus")
        path = hf_hub_download("alice/tiny", "sub/notes.txt")
        old = hf_hub_download("alice/tiny", "README.md", revision=info1.oid)
        snap = snapshot_download("alice/tiny")
        print(json.dumps({{"url": str(url), "again": str(again), "ds": str(ds), "files": files,
            "commits": [c.title for c in commits], "models": models, "datasets": datasets, "sha": info.sha,
            "siblings": sorted(s.rfilename for s in info.siblings), "dsha": dinfo.sha,
            "notes": open(path).read(), "old": open(old).read(), "head": info2.oid, "commit_url": info2.commit_url,
            "snap": sorted(os.listdir(snap)), "privacy": [was_private, now_private]}}))
    """, token=key, home=tmp_path)
    base = hub_server.base_url
    assert result["url"] == f"{base}/alice/tiny" and result["again"] == result["url"]
    assert result["ds"] == f"{base}/datasets/alice/corpus"
    assert result["files"] == [".gitattributes", "README.md", "config.json", "sub/notes.txt"]
    assert result["commits"] == ["Add a folder", "Add the card", "Initial commit"]
    assert result["models"] == ["alice/tiny"] and result["datasets"] == ["alice/corpus"]
    assert result["sha"] == result["head"] and len(result["dsha"]) == 40
    assert result["notes"] == "hello\n" and result["old"] == "# Tiny\n\nA card.\n"
    assert result["snap"] == [".gitattributes", "README.md", "config.json", "sub"]
    assert result["privacy"] == [True, False]
    for page in (result["url"], result["ds"], result["commit_url"]):  # the pages the client prints
        assert requests.get(page, timeout=30).status_code == 200, page


def test_missing_repo_revision_and_file_raise_the_right_errors(hub_server, member, tmp_path):
    _user, key = member
    result = run_client(hub_server.base_url, """
        from huggingface_hub import HfApi, hf_hub_download
        from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError
        api = HfApi()
        api.create_repo("alice/tiny")
        seen = {}
        for name, call in [("repo", lambda: hf_hub_download("alice/nope", "x")),
                           ("rev", lambda: hf_hub_download("alice/tiny", ".gitattributes", revision="f" * 40)),
                           ("entry", lambda: hf_hub_download("alice/tiny", "missing.bin")),
                           ("info", lambda: api.model_info("alice/nope"))]:
            try:
                call()
            except Exception as exc:
                seen[name] = type(exc).__name__
        print(json.dumps(seen))
    """, token=key, home=tmp_path)
    assert result == {"repo": "RepositoryNotFoundError", "rev": "RevisionNotFoundError",
                      "entry": "RemoteEntryNotFoundError", "info": "RepositoryNotFoundError"}


def test_delete_repo_removes_a_repository_and_then_finds_none(hub_server, member, tmp_path):
    _user, key = member
    result = run_client(hub_server.base_url, """
        from huggingface_hub import HfApi
        from huggingface_hub.errors import RepositoryNotFoundError
        api = HfApi()
        api.create_repo("alice/gone")
        api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="alice/gone")
        api.delete_repo("alice/gone")
        seen = {"exists": api.repo_exists("alice/gone")}
        try:
            api.delete_repo("alice/gone")
        except RepositoryNotFoundError:
            seen["again"] = "RepositoryNotFoundError"
        api.delete_repo("alice/gone", missing_ok=True)
        print(json.dumps(seen))
    """, token=key, home=tmp_path)
    assert result == {"exists": False, "again": "RepositoryNotFoundError"}
    assert not Resource.objects.filter(owner="alice", name="gone").exists()


def test_large_files_go_through_lfs_with_a_signed_put(hub_server, member, tmp_path, settings):
    _user, key = member
    big = tmp_path / "weights.bin"
    big.write_bytes(bytes(range(256)) * 40_000)  # 10 MB, past the 5 MiB regular-upload limit
    result = run_client(hub_server.base_url, f"""
        from huggingface_hub import HfApi, hf_hub_download
        api = HfApi()
        api.create_repo("alice/big")
        info = api.upload_file(path_or_fileobj={str(big)!r}, path_in_repo="weights.bin", repo_id="alice/big")
        again = api.upload_file(path_or_fileobj={str(big)!r}, path_in_repo="copy.bin", repo_id="alice/big")
        sib = {{s.rfilename: s for s in api.model_info("alice/big", files_metadata=True).siblings}}
        path = hf_hub_download("alice/big", "weights.bin")
        print(json.dumps({{"lfs": sib["weights.bin"].lfs.sha256, "size": sib["weights.bin"].size,
                          "same": open(path, "rb").read() == open({str(big)!r}, "rb").read()}}))
    """, token=key, home=tmp_path, env={"HF_HUB_DISABLE_XET": "1"})
    import hashlib
    assert result == {"lfs": hashlib.sha256(big.read_bytes()).hexdigest(), "size": 10_240_000, "same": True}


def test_transformers_loads_a_model_from_the_site(hub_server, member, tmp_path, smollm_tokenizer_dir):
    _user, key = member
    folder = tmp_path / "tiny-llama"
    result = run_client(hub_server.base_url, f"""
        import shutil, torch
        from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM
        from huggingface_hub import HfApi
        torch.manual_seed(0)
        config = LlamaConfig(vocab_size=49152, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                             num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=128,
                             tie_word_embeddings=True)
        LlamaForCausalLM(config).save_pretrained({str(folder)!r})
        for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
            shutil.copy(os.path.join({str(smollm_tokenizer_dir)!r}, name), {str(folder)!r})
        api = HfApi()
        api.create_repo("alice/tiny-llama")
        api.upload_folder(folder_path={str(folder)!r}, repo_id="alice/tiny-llama")
        os.environ["HF_HUB_OFFLINE"] = "0"
        tok = AutoTokenizer.from_pretrained("alice/tiny-llama")
        model = AutoModelForCausalLM.from_pretrained("alice/tiny-llama")
        out = model.generate(**tok("Hello", return_tensors="pt"), max_new_tokens=3, do_sample=False)
        print(json.dumps({{"vocab": tok.vocab_size, "new": out.shape[1] - 1, "layers": model.config.num_hidden_layers}}))
    """, token=key, home=tmp_path, env={"HF_HUB_DISABLE_XET": "1"})
    assert result == {"vocab": 49152, "new": 3, "layers": 1}


def test_the_web_process_memory_stays_flat_moving_200_mb(hub_server, member, tmp_path):
    """Upload (LFS PUT) and download of a 200 MB file: the uvicorn process grows by < 50 MB."""
    _user, key = member
    big = tmp_path / "big.bin"
    write_random_file(big, 200 * 1024 * 1024)
    run_client(hub_server.base_url, 'from huggingface_hub import HfApi\nHfApi().create_repo("alice/big200")\n',
               token=key, home=tmp_path)
    with RssSampler(hub_server.process.pid) as upload:
        run_client(hub_server.base_url, f"""
            from huggingface_hub import HfApi
            HfApi().upload_file(path_or_fileobj={str(big)!r}, path_in_repo="big.bin", repo_id="alice/big200")
        """, token=key, home=tmp_path, env={"HF_HUB_DISABLE_XET": "1"})
    with RssSampler(hub_server.process.pid) as download:
        result = run_client(hub_server.base_url, """
            from huggingface_hub import hf_hub_download
            print(json.dumps({"size": os.path.getsize(hf_hub_download("alice/big200", "big.bin"))}))
        """, token=key, home=tmp_path / "dl")
    assert result["size"] == 200 * 1024 * 1024
    assert upload.growth_mb < 50, f"upload grew the web process by {upload.growth_mb:.0f} MB"
    assert download.growth_mb < 50, f"download grew the web process by {download.growth_mb:.0f} MB"


def _snippet(page: str, snippet_id: str) -> str:
    code = re.search(rf'<pre id="{snippet_id}"><code>(.*?)</code></pre>', page, re.S).group(1)
    return html.unescape(code)


def test_the_pages_snippets_run_as_shown(hub_server, member, tmp_path):
    """A visitor copies the dataset page's two snippets and runs them, with no HF_ENDPOINT of their own."""
    _user, key = member
    run_client(hub_server.base_url, """
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo("alice/sums", repo_type="dataset")
        api.upload_file(path_or_fileobj=b"question,answer\\n1+1,2\\n2+3,5\\n", path_in_repo="data/train.csv",
                        repo_id="alice/sums", repo_type="dataset")
    """, token=key, home=tmp_path / "uploader")
    url = Resource.objects.get(kind="dataset", owner="alice", name="sums").get_absolute_url()
    page = requests.get(f"{hub_server.base_url}{url}", timeout=30).text
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env.update(HF_HOME=str(tmp_path / "visitor"), HF_HUB_DISABLE_PROGRESS_BARS="1",
               PATH=f"{Path(sys.executable).parent}:{env['PATH']}")
    loaded = subprocess.run([sys.executable, "-c", _snippet(page, "snip-ds")], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=240)
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    assert "features: ['question', 'answer']" in loaded.stdout and "num_rows: 2" in loaded.stdout
    downloaded = subprocess.run(["bash", "-c", _snippet(page, "snip-download")], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=240)
    assert downloaded.returncode == 0, downloaded.stderr[-3000:]
    assert (tmp_path / "sums" / "data" / "train.csv").read_text() == "question,answer\n1+1,2\n2+3,5\n"
