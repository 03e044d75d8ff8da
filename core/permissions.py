"""Who may do what, in rules every app shares. Staff users are the moderators."""
from rest_framework import permissions


def is_moderator(user) -> bool:
    return bool(user.is_authenticated and user.is_staff)


class IsStaffOrReadOnly(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or is_moderator(request.user)
