"""The trainer's configuration as the pinned transformers and TRL read it."""
import warnings

from finetune.params import effective
from finetune.training import sft_config

from .conftest import TINY


def test_the_training_config_names_no_deprecated_argument(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # transformers announces removals this way
        config = sft_config(effective(TINY), tmp_path, checkpoint_every=2)
    assert config.activation_checkpointing  # TRL's default, kept under its current name
