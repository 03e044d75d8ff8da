"""Template helpers every app's pages use."""
from django import template

from core.permissions import is_moderator

register = template.Library()

register.filter("is_moderator", is_moderator)
