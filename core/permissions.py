"""Who may do what, in rules every app shares. Staff users are the moderators."""
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from rest_framework import permissions


def is_moderator(user) -> bool:
    return bool(user.is_authenticated and user.is_staff)


def moderator_required(view):
    """A moderators' page: a visitor signs in first; a member gets the site's 403 page saying
    why (Django's staff_member_required would send them to the admin's sign-in)."""
    @wraps(view)
    @login_required
    def checked(request, *args, **kwargs):
        if not is_moderator(request.user):
            raise PermissionDenied(_("This page is for moderators."))
        return view(request, *args, **kwargs)
    return checked


class IsStaffOrReadOnly(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or is_moderator(request.user)
