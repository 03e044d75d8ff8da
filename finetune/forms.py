"""The page form: the same fields as the API. Ranges come from the API's parameter serializer,
so both doors accept and refuse the same values."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from models_hub.models import Resource
from models_hub.validators import NAME

from .params import DEFAULTS, TrainingParamsSerializer, bounds

PARAM_LABELS = {
    "max_steps": _("Max steps"), "epochs": _("Epochs"), "learning_rate": _("Learning rate"),
    "lora_r": _("LoRA rank (r)"), "lora_alpha": _("LoRA alpha"), "lora_dropout": _("LoRA dropout"),
    "batch_size": _("Batch size"), "max_seq_len": _("Max sequence length (tokens)"), "seed": _("Seed"),
}
INTEGER_PARAMS = ("max_steps", "lora_r", "lora_alpha", "batch_size", "max_seq_len", "seed")


class FineTuneForm(forms.Form):
    base_model = forms.ChoiceField(label=_("Base model"))
    dataset = forms.ChoiceField(label=_("Dataset"),
                                help_text=_("Datasets whose card declares a train_format."))
    output_name = forms.CharField(label=_("New model name"), max_length=100, validators=[NAME],
                                  help_text=_("Published as <your username>/<name>."))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        models = Resource.objects.runnable(user).filter(runtime__backend="embedded", runtime__base__isnull=True)
        if not user.is_staff:  # a taken-down base is refused (finetune.services.base_model_for)
            models = models.filter(is_taken_down=False)
        datasets = Resource.objects.visible_to(user).filter(kind=Resource.Kind.DATASET, card__contains="train_format:")
        self.fields["base_model"].choices = [(m, m) for m in models.order_by("repo_id").values_list("repo_id", flat=True)]
        self.fields["dataset"].choices = [(d, d) for d in datasets.order_by("repo_id").values_list("repo_id", flat=True)]
        limits = bounds()
        for name, label in PARAM_LABELS.items():
            field_class = forms.IntegerField if name in INTEGER_PARAMS else forms.FloatField
            attrs = {"step": "any"} if field_class is forms.FloatField else {}
            self.fields[name] = field_class(label=label, required=False, min_value=limits[name]["min"],
                                            max_value=limits[name]["max"], widget=forms.NumberInput(attrs=attrs),
                                            initial=DEFAULTS.get(name))

    def clean(self) -> dict:
        data = super().clean()
        params = {name: data[name] for name in PARAM_LABELS if data.get(name) is not None}
        checked = TrainingParamsSerializer(data=params)
        if not checked.is_valid():
            for name, errors in checked.errors.items():
                self.add_error(name if name in self.fields else None, errors)
        data["params"] = params
        return data
