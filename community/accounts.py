"""Writes for a member's own account: the profile, with the e-mail address guarded."""
from __future__ import annotations

from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .models import User


@transaction.atomic
def update_profile(*, user: User, display_name: str | None = None, email: str | None = None,
                   bio: str | None = None, current_password: str | None = None, request=None) -> User:
    """Change the profile fields given (None leaves a field as it is).

    A new e-mail address needs the current password: password resets go to that address, so
    whoever holds only a session or an API token could otherwise move it and take the account.
    Fields are checked against the model (lengths, e-mail format) before anything is written.
    With the request, the password is checked through `authenticate`, so that wrong guesses count
    toward the brute-force lockout (django-axes) like failed log-ins do.
    """
    account = User.objects.select_for_update(no_key=True).get(pk=user.pk)
    changes = {name: value for name, value in
               {"display_name": display_name, "email": email, "bio": bio}.items() if value is not None}
    if "email" in changes and changes["email"] != account.email:
        if not current_password or not _password_matches(account, current_password, request):
            raise ValidationError({"current_password": [
                _("Enter your current password to change your e-mail address.")]})
    for name, value in changes.items():
        setattr(account, name, value)
    account.clean_fields(exclude=[f.name for f in User._meta.concrete_fields if f.name not in changes])
    if changes:
        account.save(update_fields=list(changes))
    return account


def _password_matches(account: User, password: str, request) -> bool:
    if request is None:
        return account.check_password(password)
    return authenticate(request, username=account.get_username(), password=password) is not None


def lockout_username(request, credentials: dict | None = None) -> str | None:
    """The name django-axes counts failed log-ins under, ignoring case as the log-in does:
    otherwise Alice, ALICE and alice would each get their own allowance of guesses."""
    source = credentials or getattr(request, "data", None) or request.POST
    name = source.get("username") if hasattr(source, "get") else None
    return name.lower() if isinstance(name, str) else name
