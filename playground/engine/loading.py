"""Load a model and tokenizer from a runtime spec; GGUF files are converted once and cached."""
from __future__ import annotations

import fcntl
import logging
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .runtime import ModelLoadError, RepoFetcher, RuntimeSpec, default_device

REVISION = re.compile(r"^[0-9a-f]{40}$")


def materialise(spec: RuntimeSpec, *, cache_dir: Path, fetch_repo: RepoFetcher | None) -> Path:
    """The repository's files at the spec's revision, in `cache_dir/repos/<sha>/` (written once,
    through a partial directory, so a crash never leaves a half-filled one in place)."""
    if fetch_repo is None:
        raise ModelLoadError("This process cannot read repositories (no fetcher was given).")
    if not REVISION.match(spec.revision):
        raise ModelLoadError(f"A repository runtime needs a full commit sha, not {spec.revision!r}.")
    target = cache_dir / "repos" / spec.revision
    if (target / ".complete").exists():
        return target
    with _one_writer(target):
        if (target / ".complete").exists():  # another process wrote it while this one waited
            return target
        partial = target.with_name(target.name + f".partial-{os.getpid()}")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        try:
            fetch_repo(spec.location, spec.revision, partial)
            (partial / ".complete").touch()
            shutil.rmtree(target, ignore_errors=True)
            partial.rename(target)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
    return target


@contextmanager
def _one_writer(target: Path) -> Iterator[None]:
    """An exclusive lock on `target` across processes: two workers starting on a fresh machine
    write a model's directory once, instead of each deleting the other's while it is in use."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.with_name(target.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield

log = logging.getLogger(__name__)


def model_directory(spec: RuntimeSpec, *, cache_dir: Path, fetch_repo: RepoFetcher | None = None) -> str:
    """A directory (or hub id) that `from_pretrained` takes for the spec's own files: a
    repository's are materialised, a GGUF file is de-quantised once into the cache (tens of
    seconds) and read from there afterwards. Training loads models from here too."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if spec.source == "repo":
        location = str(materialise(spec, cache_dir=cache_dir, fetch_repo=fetch_repo))
    else:
        location = spec.resolve()
    if not spec.gguf_file:
        return location
    converted = cache_dir / spec.cache_key()
    if _is_converted(converted):
        return str(converted)
    with _one_writer(converted):
        if not _is_converted(converted):  # another process may have converted it meanwhile
            import torch

            tokenizer = AutoTokenizer.from_pretrained(location, gguf_file=spec.gguf_file, trust_remote_code=False)
            model = AutoModelForCausalLM.from_pretrained(location, gguf_file=spec.gguf_file,
                                                         dtype=torch.float32, trust_remote_code=False)
            _save_atomically(model, tokenizer, converted)
    return str(converted)


def _is_converted(directory: Path) -> bool:
    return (directory / "config.json").exists() and (directory / "tokenizer_config.json").exists()


def _with_adapter(spec: RuntimeSpec, adapter_dir: str, *, cache_dir: Path, dtype, fetch_repo):
    """The base model with a PEFT adapter (LoRA) applied and merged into its weights, so that it
    decodes as fast as the base alone. The tokenizer is the base's."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base_dir = model_directory(spec.base, cache_dir=cache_dir, fetch_repo=fetch_repo)
    tokenizer = AutoTokenizer.from_pretrained(base_dir, trust_remote_code=False)
    base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=dtype, trust_remote_code=False)
    return PeftModel.from_pretrained(base, adapter_dir).merge_and_unload(), tokenizer


def load_model(spec: RuntimeSpec, *, cache_dir: Path, device: str | None = None,
               fetch_repo: RepoFetcher | None = None):
    """Returns (model, tokenizer) on the device: bf16 on CUDA, fp32 on CPU, in eval mode.
    Never runs code from the model's files (trust_remote_code is off)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = device or default_device()
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    started = time.perf_counter()
    try:
        location = model_directory(spec, cache_dir=cache_dir, fetch_repo=fetch_repo)
        if spec.base is not None:  # an adapter: its base model, with the adapter merged in
            model, tokenizer = _with_adapter(spec, location, cache_dir=cache_dir, dtype=dtype,
                                             fetch_repo=fetch_repo)
        else:
            tokenizer = AutoTokenizer.from_pretrained(location, trust_remote_code=False)
            model = AutoModelForCausalLM.from_pretrained(location, dtype=dtype, trust_remote_code=False)
    except ModelLoadError:
        raise
    except Exception as exc:  # any loader failure becomes a readable job error
        raise ModelLoadError(f"Could not load the model ({type(exc).__name__}: {exc})") from exc
    model.to(device).eval()
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    log.info("loaded %s on %s in %.1fs", spec.location, device, time.perf_counter() - started)
    return model, tokenizer


def _save_atomically(model, tokenizer, target: Path) -> None:
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    # The GGUF weights are already de-quantised to fp32; drop the marker that forbids saving.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
