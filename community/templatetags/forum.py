"""The forum's permission rules for templates: `{% if user|can_edit:post %}`."""
from django import template

from community import permissions
from community.models import Flag
from community.moderation import FLAG_REASON_MAX_LENGTH

register = template.Library()

register.filter("can_edit", permissions.can_edit)
register.filter("can_delete", permissions.can_delete)
register.filter("can_vote", permissions.can_vote)
register.filter("can_flag", permissions.can_flag)
register.filter("can_reply", permissions.can_reply)
register.filter("can_accept", permissions.can_accept)


@register.simple_tag
def flag_reason_max_length() -> int:
    return FLAG_REASON_MAX_LENGTH


@register.simple_tag
def flag_kinds() -> list[tuple[str, str]]:
    return Flag.Kind.choices
