import json
import shlex
from urllib.parse import urlencode

from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from models_hub.models import Resource

register = template.Library()


@register.simple_tag
def toggle_filter(request, name: str, value: str) -> str:
    """The current query with one filter set, or removed when it is already set to `value`."""
    params = request.GET.copy()
    params.pop("page", None)
    if params.get(name) == value:
        params.pop(name)
    else:
        params[name] = value
    return "?" + urlencode(list(params.items()))


@register.simple_tag
def facet_label(name: str) -> str:
    return {"kind": _("Kind"), "task": _("Task"), "license": _("License"), "library": _("Library"),
            "tag": _("Tags"), "author": _("Owner"), "runnable": _("Playground")}.get(name, name)


@register.simple_tag
def kind_label(value: str) -> str:
    return str(Resource.Kind(value).label) if value in Resource.Kind.values else value


@register.filter
def get_item(mapping: dict, key: str):
    return mapping.get(key)


@register.filter
def py_str(value) -> str:
    """`value` as one Python (and JSON) string literal, for code shown in HTML text content:
    quotes, backslashes and newlines escaped, every non-ASCII character (bidi controls too) as
    a \\u escape, and < > & ' as \\u escapes so that the HTML needs no entities. Not for
    attribute values."""
    literal = json.dumps(str(value))
    for char in "&<>'":
        literal = literal.replace(char, f"\\u{ord(char):04x}")
    return mark_safe(literal)


@register.filter
def sh_str(value) -> str:
    """`value` as one POSIX shell word (quoted when it needs to be); autoescaped as usual."""
    return shlex.quote(str(value))
