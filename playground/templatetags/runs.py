"""A run's settings named as the playground's form names them."""
from django import template
from django.utils.translation import gettext as _

from django.utils.safestring import mark_safe

from playground.answers import answer_html
from playground.models import MessageRole

register = template.Library()


@register.filter
def param_label(name: str) -> str:
    labels = {
        "max_new_tokens": _("Max new tokens"), "temperature": _("Temperature"), "top_p": _("Top-p"),
        "top_k": _("Top-k"), "repetition_penalty": _("Repetition penalty"), "seed": _("Seed"),
        "presence_penalty": _("Presence penalty"), "frequency_penalty": _("Frequency penalty"),
        "stop": _("Stop sequences"), "min_new_tokens": _("Min new tokens"), "logprobs": _("Log-probabilities"),
        "top_logprobs": _("Top log-probabilities"), "echo": _("Echo the prompt"),
    }
    return labels.get(name, name)


@register.filter
def shown_stop(stop: str) -> str:
    """A stop sequence as the playground's box writes it: a new line is otherwise invisible."""
    return stop.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


@register.filter
def answer(text: str) -> str:
    """A model's answer rendered: Markdown through core.markdown's allow-list (playground.answers)."""
    return mark_safe(answer_html(text))  # noqa: S308  (sanitised HTML, not the text itself)


@register.filter
def role_label(role: str) -> str:
    """A message's role in the page's language (system, user, assistant)."""
    return MessageRole(role).label if role in MessageRole.values else role
