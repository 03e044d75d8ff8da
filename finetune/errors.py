"""Why a training run stops early, in words for its member (imported without transformers)."""
from __future__ import annotations

from django.utils.translation import gettext as _


class TrainingDiverged(ArithmeticError):
    """The loss stopped being a number: going on would only train garbage (and a NaN cannot be
    stored in the curve's JSON). The message tells the member what to change."""

    def __init__(self, step: int, loss: float):
        super().__init__(_("Training diverged at step %(step)d (the loss became %(loss)s). Try a lower learning "
                           "rate or a smaller LoRA alpha.") % {"step": step, "loss": loss})
