"""Load a model and tokenizer from a runtime spec; GGUF files are converted once and cached."""
from __future__ import annotations

import fcntl
import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from .runtime import ModelLoadError, RepoFetcher, RuntimeSpec, default_device

REVISION = re.compile(r"^[0-9a-f]{40}$")
log = logging.getLogger(__name__)


def materialise(spec: RuntimeSpec, *, cache_dir: Path, fetch_repo: RepoFetcher | None) -> Path:
    """The repository's files at the spec's revision, in `cache_dir/repos/<sha>/` (written once,
    through a partial directory, so a crash never leaves a half-filled one in place). Each call
    marks the directory used, so `prune_repos` keeps it for a while."""
    if fetch_repo is None:
        raise ModelLoadError("This process cannot read repositories (no fetcher was given).")
    if not REVISION.match(spec.revision):
        raise ModelLoadError(f"A repository runtime needs a full commit sha, not {spec.revision!r}.")
    target = cache_dir / "repos" / spec.revision
    complete = target / ".complete"

    def fetch() -> None:
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

    if complete.exists() and not os.access(target.parent, os.W_OK):
        return target  # a cache filled beforehand and mounted read-only: nothing prunes it either
    with _locked(target):
        if complete.exists():
            complete.touch()  # its last use: what was used lately is not pruned
        else:
            fetch()
    return target


def prune_repos(cache_dir: Path, *, max_bytes: int, min_idle_s: float) -> list[str]:
    """Remove the least recently used repositories' directories from `cache_dir/repos` until the
    rest fit in `max_bytes`, never one used within `min_idle_s` (a job may be reading it); and
    what a killed writer left (a partial directory no fetch is writing, a removal cut short).
    Each goes under its directory's lock, so a `materialise` of it either marked it used first
    (it stays) or writes it afresh after. Returns the revisions removed."""
    root = cache_dir / "repos"
    if not root.is_dir() or not os.access(root, os.W_OK):
        return []  # none yet, or filled beforehand and mounted read-only
    now = time.time()
    for removal in root.glob("*.removed-*"):
        shutil.rmtree(removal, ignore_errors=True)
    for partial in root.glob("*.partial-*"):
        with _locked(root / partial.name.split(".partial-")[0], wait=False) as free:
            if free:  # no fetch of that revision is under way: a killed one left it
                shutil.rmtree(partial, ignore_errors=True)
    cached = []  # (last used, directory, bytes)
    for directory in root.iterdir():
        if REVISION.match(directory.name):
            with suppress(FileNotFoundError):  # incomplete, or removed by another worker's prune
                cached.append(((directory / ".complete").stat().st_mtime, directory, _bytes_in(directory)))
    total = sum(size for _used, _directory, size in cached)
    removed = []
    for used_at, directory, size in sorted(cached):
        if total <= max_bytes or now - used_at < min_idle_s:
            break  # within the budget, or everything left was used lately
        with _locked(directory):
            if not _idle_since(directory, now - min_idle_s):
                continue  # used meanwhile, or removed by another worker's prune
            trash = directory.with_name(f"{directory.name}.removed-{os.getpid()}")
            directory.rename(trash)
        shutil.rmtree(trash, ignore_errors=True)
        total -= size
        removed.append(directory.name)
    return removed


def _idle_since(directory: Path, since: float) -> bool:
    try:
        return (directory / ".complete").stat().st_mtime < since
    except FileNotFoundError:
        return False


def _bytes_in(directory: Path) -> int:
    total = 0
    for path in directory.rglob("*"):
        with suppress(OSError):  # removed meanwhile
            total += path.stat().st_size if path.is_file() else 0
    return total


@contextmanager
def _locked(target: Path, *, wait: bool = True) -> Iterator[bool]:
    """An exclusive lock on `target`'s directory across processes (a file beside it). Without
    `wait`, gives False at once when another holds it (and nothing is locked)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.with_name(target.name + ".lock"), "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True  # released when the file closes


def _write_once(target: Path, *, written: Callable[[], bool], write: Callable[[], None]) -> None:
    """`write` the directory `target` unless it is `written`, under an exclusive lock across
    processes: two workers starting on a fresh machine write a model's directory once (the second
    waits, then finds it written) instead of each deleting the other's while it is in use."""
    if written():
        return
    with _locked(target):
        if not written():
            write()


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

    def convert() -> None:
        import torch

        tokenizer = AutoTokenizer.from_pretrained(location, gguf_file=spec.gguf_file, trust_remote_code=False)
        model = AutoModelForCausalLM.from_pretrained(location, gguf_file=spec.gguf_file,
                                                     dtype=torch.float32, trust_remote_code=False)
        _save_atomically(model, tokenizer, converted)

    _write_once(converted, write=convert, written=lambda: (
        (converted / "config.json").exists() and (converted / "tokenizer_config.json").exists()))
    return str(converted)


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
