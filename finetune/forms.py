"""The page form: the same fields as the API. Ranges come from the API's parameter serializer,
so both doors accept and refuse the same values."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from models_hub.models import Resource
from models_hub.validators import NAME

from .formats import DECLARATION_KEYS, FORMATS, request_declaration
from .params import DEFAULTS, TrainingParamsSerializer, bounds

PARAM_LABELS = {
    "max_steps": _("Max steps"), "epochs": _("Epochs"), "learning_rate": _("Learning rate"),
    "lora_r": _("LoRA rank (r)"), "lora_alpha": _("LoRA alpha"), "lora_dropout": _("LoRA dropout"),
    "batch_size": _("Batch size"), "max_seq_len": _("Max sequence length (tokens)"), "seed": _("Seed"),
}
INTEGER_PARAMS = ("max_steps", "lora_r", "lora_alpha", "batch_size", "max_seq_len", "seed")


DECLARATION_LABELS = {
    "train_file": _("Training file"), "train_prompt": _("Prompt template"),
    "train_completion": _("Completion template"), "train_text": _("Text template"),
    "train_messages": _("Messages column"),
}
DECLARATION_HELP = {
    "train_file": _("A .jsonl, .csv or .parquet file of the dataset, e.g. data/train.jsonl."),
    "train_prompt": _("prompt_completion: the user's turn, with columns in braces, e.g. Translate: {zh}"),
    "train_completion": _("prompt_completion: the answer to learn, e.g. {en}"),
    "train_text": _("text: each example's whole text, with columns in braces, e.g. {title}: {body}"),
    "train_messages": _("messages: the column holding [{role, content}, …] (default: messages)."),
}


class FineTuneForm(forms.Form):
    base_model = forms.ChoiceField(label=_("Base model"))
    dataset = forms.ChoiceField(label=_("Dataset"))
    output_name = forms.CharField(label=_("New model name"), max_length=100, validators=[NAME],
                                  help_text=_("Published as <your username>/<name>."))
    # How to read the dataset, where its card does not say (the card's own keys; docs/finetune.md).
    train_format = forms.ChoiceField(label=_("Training format"), required=False, choices=[
        ("", _("as the dataset's card declares")), *((name, name) for name in FORMATS)])

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        models = Resource.objects.runnable(user).filter(runtime__backend="embedded", runtime__base__isnull=True)
        if not user.is_staff:  # a taken-down base is refused (finetune.services.base_model_for)
            models = models.filter(is_taken_down=False)
        datasets = Resource.objects.visible_to(user).filter(kind=Resource.Kind.DATASET)
        self.fields["base_model"].choices = [(m, m) for m in models.order_by("repo_id").values_list("repo_id", flat=True)]
        self.fields["dataset"].choices = [(d, d) for d in datasets.order_by("repo_id").values_list("repo_id", flat=True)]
        for name, label in DECLARATION_LABELS.items():
            template = name not in ("train_file", "train_messages")  # may hold spaces and new lines
            self.fields[name] = forms.CharField(label=label, required=False, strip=not template,
                                                max_length=2000 if template else 500, help_text=DECLARATION_HELP[name],
                                                widget=forms.Textarea(attrs={"rows": 2}) if template else None)
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
        data["declaration"], missing = request_declaration(data)
        for key in missing:
            self.add_error(key, _("Needed with the other training fields."))
        return data

    def declaration_fields(self):
        return [self[name] for name in DECLARATION_KEYS]

    def setting_fields(self):
        return [field for field in self if field.name not in DECLARATION_KEYS]
