"""Load a model and tokenizer from a runtime spec; GGUF files are converted once and cached."""
from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

from .runtime import ModelLoadError, RuntimeSpec, default_device

log = logging.getLogger(__name__)


def load_model(spec: RuntimeSpec, *, cache_dir: Path, device: str | None = None):
    """Returns (model, tokenizer) on the device: bf16 on CUDA, fp32 on CPU, in eval mode."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = device or default_device()
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    started = time.perf_counter()
    try:
        location = spec.resolve()
        if spec.gguf_file:
            # De-quantising a GGUF file takes tens of seconds; keep the converted model on disk.
            converted = cache_dir / spec.cache_key()
            if (converted / "config.json").exists() and (converted / "tokenizer_config.json").exists():
                location = str(converted)
            else:
                tokenizer = AutoTokenizer.from_pretrained(location, gguf_file=spec.gguf_file)
                model = AutoModelForCausalLM.from_pretrained(location, gguf_file=spec.gguf_file,
                                                             dtype=torch.float32)
                _save_atomically(model, tokenizer, converted)
                location = str(converted)
        tokenizer = AutoTokenizer.from_pretrained(location)
        model = AutoModelForCausalLM.from_pretrained(location, dtype=dtype)
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
