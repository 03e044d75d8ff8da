"""A loss that stops being a number ends training at once, in words the member can act on
(jsonb cannot store a NaN point of the curve, and nothing good would be trained past it)."""
from types import SimpleNamespace

import pytest

from core import eventlog
from finetune import runner
from finetune.errors import TrainingDiverged
from finetune.models import FineTuneJob
from finetune.progress import PlatformProgress

pytestmark = pytest.mark.django_db(transaction=True)  # the heartbeat thread uses its own connection


@pytest.fixture
def job(user, base_model, dataset):
    return FineTuneJob.objects.create(user=user, base_model=base_model, dataset=dataset, dataset_revision="a" * 40,
                                      output_name="out", status="running", attempts=1)


@pytest.mark.parametrize("loss", [float("nan"), float("inf")])
def test_a_loss_that_is_not_a_number_stops_the_trainer(job, loss):
    progress = PlatformProgress(job, eventlog.LogWriter(eventlog.stream_name(job), owner=1))
    args = SimpleNamespace(per_device_train_batch_size=2, gradient_accumulation_steps=1, world_size=1)
    with pytest.raises(TrainingDiverged, match="step 3"):
        progress.on_log(args, SimpleNamespace(global_step=3, max_steps=10, epoch=0.3), None, logs={"loss": loss})
    job.refresh_from_db()
    assert job.history == []


def test_the_job_fails_with_what_to_change(job, monkeypatch):
    def diverging(job, writer, resume):
        raise TrainingDiverged(7, float("nan"))

    monkeypatch.setattr(runner, "_train", diverging)
    FineTuneJob.objects.filter(pk=job.pk).update(status="queued", attempts=0)
    runner.execute(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.error.startswith("Training diverged at step 7") and "lower learning rate" in job.error


def test_a_real_trainer_hands_the_callback_a_nan_loss_as_nan(job, tmp_path):
    """transformers logs a NaN step as a loss of 0 unless told not to: the check must see it."""
    import torch
    from transformers import Trainer

    from finetune import training

    class NotANumber(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.ones(1))

        def forward(self, x=None, labels=None):
            return {"loss": (self.weight * x).sum() * float("nan")}

    class Ones(torch.utils.data.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, index):
            return {"x": torch.ones(1)}

    config = training.sft_config({"max_steps": 2, "learning_rate": 1e-3, "batch_size": 1, "max_seq_len": 16,
                                  "seed": 1}, tmp_path, checkpoint_every=100)
    config.activation_checkpointing = config.gradient_checkpointing = False  # a bare module has none
    progress = PlatformProgress(job, eventlog.LogWriter(eventlog.stream_name(job), owner=1))
    with pytest.raises(TrainingDiverged, match="step 1"):
        Trainer(model=NotANumber(), args=config, train_dataset=Ones(), callbacks=[progress]).train()
