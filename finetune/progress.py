"""The trainer's callback on a platform job: progress into the row and the event log, cancel
requests out of them, checkpoints noted. The trainer calls it between steps, so nothing here
runs inside a step."""
from __future__ import annotations

import math
import time

from transformers import TrainerCallback

from core import attempts, eventlog

from .errors import TrainingDiverged
from .models import FineTuneJob

FLAG_CHECK_S = 2.0  # how often the row's cancel flag is read (the log is read every step)
MAX_POINTS = 500  # points kept for the curves, whatever the number of steps


class PlatformProgress(TrainerCallback):
    def __init__(self, job: FineTuneJob, writer: eventlog.LogWriter):
        self.job = job
        self.writer = writer
        self.cancelled = False
        self._started = 0.0
        self._first_step = 0
        self._flag_checked = 0.0
        self._every = 1

    def on_train_begin(self, args, state, control, **kwargs):
        self._started = time.monotonic()
        self._first_step = state.global_step
        self._every = max(1, state.max_steps // MAX_POINTS)
        attempts.held(self.job).update(total_steps=state.max_steps, step=state.global_step)
        self.writer.append("started", {"step": state.global_step, "total_steps": state.max_steps,
                                       "attempt": self.job.attempts})

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if "loss" not in logs:
            return  # the end-of-training summary, not a step
        if not math.isfinite(float(logs["loss"])):
            raise TrainingDiverged(state.global_step, float(logs["loss"]))
        elapsed = max(time.monotonic() - self._started, 1e-9)
        steps_per_s = (state.global_step - self._first_step) / elapsed
        batch = args.per_device_train_batch_size * args.gradient_accumulation_steps * max(1, args.world_size)
        progress = {
            "step": state.global_step, "total_steps": state.max_steps, "epoch": state.epoch,
            "loss": float(logs["loss"]), "lr": float(logs.get("learning_rate", 0.0)),
            "examples_per_s": steps_per_s * batch,
            "tokens_per_s": float(logs["num_tokens"]) / elapsed if "num_tokens" in logs else None,
            "eta_s": (state.max_steps - state.global_step) / steps_per_s if steps_per_s else None,
        }
        fields = {"step": progress["step"], "epoch": progress["epoch"], "loss": progress["loss"],
                  "learning_rate": progress["lr"], "examples_per_s": progress["examples_per_s"],
                  "tokens_per_s": progress["tokens_per_s"], "eta_s": progress["eta_s"]}
        if state.global_step % self._every == 0 or state.global_step == state.max_steps:
            self.job.history = [*self.job.history, {"step": progress["step"], "loss": progress["loss"],
                                                    "lr": progress["lr"]}]
            fields["history"] = self.job.history
        attempts.held(self.job).update(**fields)
        self.writer.append("progress", progress)

    def on_step_end(self, args, state, control, **kwargs):
        # Before a checkpoint the row is read at once: a superseded attempt must not save into,
        # and rotate, the checkpoints of the attempt that holds the job now (they share a folder).
        if self._cancel_requested(look_now=control.should_save):
            self.cancelled = True
            control.should_training_stop = True
            control.should_save = False
        return control

    def on_save(self, args, state, control, **kwargs):
        attempts.held(self.job).update(checkpoint_step=state.global_step)
        self.writer.append("checkpoint", {"step": state.global_step})

    def _cancel_requested(self, *, look_now: bool = False) -> bool:
        if self.writer.cancel_requested():
            return True
        now = time.monotonic()
        if look_now or now - self._flag_checked >= FLAG_CHECK_S:
            self._flag_checked = now
            # The flag (a cancel the log missed), or this attempt no longer holding the job: the
            # reaper ended it (its deadline passed) or queued it again (core.attempts), so nothing
            # this attempt trains would be kept.
            return not attempts.held(self.job).filter(cancel_requested=False).exists()
        return False
