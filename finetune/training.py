"""The training itself: TRL's SFT trainer with a PEFT LoRA config over a transformers model.
No Django here, so the benchmark can build the same trainer; the runner adds its callbacks.

bf16 on CUDA, fp32 on CPU. Checkpoints (adapter, optimizer, scheduler, RNG state) are written
every `checkpoint_every` steps into `output_dir`, and `last_checkpoint` finds the newest one
for `trainer.train(resume_from_checkpoint=...)`.
"""
from __future__ import annotations

import os
import threading
from importlib.metadata import version
from pathlib import Path

LIBRARIES = ("torch", "transformers", "trl", "peft", "datasets", "accelerate")
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")
# TRL and transformers import their trainers lazily; two threads of a worker importing them at
# once can see a half-initialised module ("cannot import name 'SFTTrainer'"), so one at a time.
_IMPORTS = threading.Lock()


def on_cuda() -> bool:
    import torch

    return torch.cuda.is_available() and os.environ.get("INFERENCE_DEVICE", "cuda").startswith("cuda")


def versions() -> dict[str, str]:
    return {name: version(name) for name in LIBRARIES}


def sft_config(params: dict, output_dir: Path, *, checkpoint_every: int):
    from trl import SFTConfig

    cuda = on_cuda()
    length = {"max_steps": int(params["max_steps"])} if params.get("max_steps") else {
        "num_train_epochs": float(params["epochs"])}
    return SFTConfig(
        output_dir=str(output_dir), **length,
        learning_rate=float(params["learning_rate"]), per_device_train_batch_size=int(params["batch_size"]),
        max_length=int(params["max_seq_len"]), seed=int(params["seed"]), data_seed=int(params["seed"]),
        # The progress callback must see a loss that stopped being a number (it fails the job in
        # words); transformers' default filter would log the step as a loss of 0 instead.
        logging_steps=1, logging_first_step=True, logging_nan_inf_filter=False, save_strategy="steps", save_steps=checkpoint_every,
        save_total_limit=2, report_to=[], disable_tqdm=True, bf16=cuda, use_cpu=not cuda,
        dataloader_num_workers=0, dataset_num_proc=None, packing=False,
        # TRL's default, under the name transformers 5 keeps (`gradient_checkpointing` is its
        # deprecated alias): recompute activations in the backward pass rather than hold them.
        activation_checkpointing=True,
    )


def lora_config(params: dict):
    from peft import LoraConfig

    return LoraConfig(r=int(params["lora_r"]), lora_alpha=int(params["lora_alpha"]),
                      lora_dropout=float(params["lora_dropout"]), task_type="CAUSAL_LM")


def load_base(model_dir: str):
    """The base model and tokenizer, for training on this machine's device."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir, trust_remote_code=False)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    dtype = torch.bfloat16 if on_cuda() else torch.float32
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype, trust_remote_code=False)
    return model, tokenizer


def build_trainer(*, model_dir: str, examples: list[dict], params: dict, output_dir: Path,
                  checkpoint_every: int, callbacks: list | None = None):
    with _IMPORTS:
        from datasets import Dataset
        from transformers import set_seed
        from trl import SFTConfig, SFTTrainer  # noqa: F401  (SFTConfig: sft_config's import, under the lock)

    # The trainer seeds itself only after PEFT has drawn the LoRA weights: seed first, so that the
    # same job trains the same adapter.
    set_seed(int(params["seed"]))
    model, tokenizer = load_base(model_dir)
    return SFTTrainer(model=model, args=sft_config(params, output_dir, checkpoint_every=checkpoint_every),
                      train_dataset=Dataset.from_list(examples), processing_class=tokenizer,
                      peft_config=lora_config(params), callbacks=callbacks or [])


def last_checkpoint(output_dir: Path) -> str | None:
    """The newest complete checkpoint in `output_dir`, if any (a worker killed while writing one
    leaves it without its trainer state, and it is skipped)."""
    if not output_dir.is_dir():
        return None
    complete = [p for p in output_dir.glob("checkpoint-*") if p.name.split("-")[-1].isdigit()
                and (p / "trainer_state.json").exists()]
    if not complete:
        return None
    return str(max(complete, key=lambda p: int(p.name.split("-")[-1])))


def save_adapter(trainer, target: Path) -> Path:
    """The trained adapter's files (adapter_config.json, adapter_model.safetensors)."""
    target.mkdir(parents=True, exist_ok=True)
    trainer.model.save_pretrained(str(target), safe_serialization=True)
    missing = [name for name in ADAPTER_FILES if not (target / name).exists()]
    if missing:
        raise RuntimeError(f"PEFT did not write {', '.join(missing)}.")
    return target
