"""Writes for a member's own account: the profile, with the e-mail address guarded."""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from core.exceptions import RateLimited
from core.throttles import wait_for

from .models import EmailNotifications, User
from .throttles import EmailChangeInboxThrottle, EmailChangeThrottle

EMAIL_CHANGE_SALT = "community.email-change"


def update_profile(*, user: User, display_name: str | None = None, email: str | None = None,
                   bio: str | None = None, email_notifications: str | None = None,
                   current_password: str | None = None, request=None) -> User:
    """Change the profile fields given (None leaves a field as it is).

    A new e-mail address needs the current password: password resets go to that address, so
    whoever holds only a session or an API token could otherwise move it and take the account.
    It then waits in `pending_email` until its owner, signed in, follows the link sent to it (a
    typo must not cut a member off from password resets), and the old address is told; the links
    a member and an inbox get are limited (community.throttles). Fields are checked against the
    model (lengths, e-mail format) before anything is written.
    The password is checked before the write's transaction opens, so that a wrong guess stays
    counted (a refusal rolls the transaction back): through `authenticate` with the request, as a
    failed log-in (django-axes), and against PASSWORD_GUESSES_MAX per member in the cache.
    """
    changing_email = email is not None and email != User.objects.values_list("email", flat=True).get(pk=user.pk)
    if changing_email:
        _check_current_password(user, current_password, request)
    return _update_profile(user=user, display_name=display_name, email=email, bio=bio,
                           email_notifications=email_notifications, request=request)


@transaction.atomic
def _update_profile(*, user: User, display_name: str | None, email: str | None, bio: str | None,
                    email_notifications: str | None, request) -> User:
    account = User.objects.select_for_update(no_key=True).get(pk=user.pk)
    changes = {name: value for name, value in
               {"display_name": display_name, "email": email, "bio": bio,
                "email_notifications": email_notifications}.items() if value is not None}
    if request is not None and getattr(request, "LANGUAGE_CODE", "") and request.LANGUAGE_CODE != account.language:
        changes["language"] = request.LANGUAGE_CODE  # e-mails go out in the language last used
    email = changes.pop("email", None)
    if email is not None and email != account.email:
        if request is not None and (wait := wait_for(request, EmailChangeThrottle(), EmailChangeInboxThrottle(email))):
            raise RateLimited(retry_after=wait)
        changes["pending_email"] = email
        transaction.on_commit(lambda: _send_email_change(account, request))
    for name, value in changes.items():
        setattr(account, name, value)
    account.clean_fields(exclude=[f.name for f in User._meta.concrete_fields if f.name not in changes])
    if changes:
        account.save(update_fields=list(changes))
    return account


@transaction.atomic
def sign_up(*, form, request) -> User:
    """A new member from the sign-up form. Their address waits in `pending_email` until they
    follow the link sent to it, as a changed one does: until then nothing else is e-mailed to it
    (notifications, password resets), so nobody can sign up with another person's address and
    have the site write to them."""
    user = form.save()  # saving its new password would drop a pending address: it is set after
    User.objects.filter(pk=user.pk).update(email="", pending_email=user.email)
    user.pending_email, user.email = user.email, ""
    transaction.on_commit(lambda: _send_email_change(user, request))
    return user


def _send_email_change(account: User, request) -> None:
    """A link to the new address (signed, naming the old one too, so a later change voids it)
    and a word to the old one, which may be the owner's only warning."""
    token = signing.dumps({"user": account.pk, "email": account.pending_email, "was": account.email},
                          salt=EMAIL_CHANGE_SALT)
    path = reverse("email-confirm", args=[token])
    link = request.build_absolute_uri(path) if request is not None else path
    days = settings.EMAIL_CHANGE_MAX_AGE_S // 86400
    send_mail(_("Confirm your new e-mail address"),
              _("Follow this link to use this address for your LLM Community account %(name)s "
                "(it works for %(days)d days):\n\n%(link)s\n") % {"name": account.username, "days": days, "link": link},
              None, [account.pending_email])
    if account.email:
        send_mail(_("Your e-mail address is being changed"),
                  _("Someone with your password asked to move your LLM Community account %(name)s to "
                    "%(email)s. It moves once that address confirms. If it was not you, change your "
                    "password now.\n") % {"name": account.username, "email": account.pending_email},
                  None, [account.email])


def cancel_email_change(*, user: User) -> None:
    """The change waiting for its link is dropped (the link stops working)."""
    User.objects.filter(pk=user.pk).update(pending_email="")


@transaction.atomic
def confirm_email_change(*, user: User, token: str) -> User:
    """The new address takes over, if the link is the latest one `user` asked for and has not
    expired: holding the link is not enough (whoever owns a mistyped address gets it too)."""
    try:
        asked = signing.loads(token, salt=EMAIL_CHANGE_SALT, max_age=settings.EMAIL_CHANGE_MAX_AGE_S)
    except signing.BadSignature:  # tampered with, or expired
        raise ValidationError(_("This link is invalid or has expired. Ask for the change again in Settings."))
    if asked.get("user") != user.pk:
        raise ValidationError(_("This link is for another account: log in as the member who asked for it."))
    account = User.objects.select_for_update(no_key=True).get(pk=user.pk)
    if not asked.get("email") or (account.pending_email, account.email) != (
            asked.get("email"), asked.get("was")):
        raise ValidationError(_("This link is no longer valid: the address was changed or confirmed since."))
    account.email, account.pending_email = account.pending_email, ""
    account.save(update_fields=["email", "pending_email"])
    return account


def _check_current_password(account: User, password: str | None, request) -> None:
    """The member's password, or ValidationError naming `current_password`; RateLimited once
    PASSWORD_GUESSES_MAX wrong ones came within PASSWORD_GUESSES_WINDOW_S (whoever holds a
    session or a token must not be able to guess the password that guards the account)."""
    key = f"password-guesses:{account.pk}"
    if cache.get(key, 0) >= settings.PASSWORD_GUESSES_MAX or getattr(request, "axes_locked_out", False):
        raise RateLimited(retry_after=settings.PASSWORD_GUESSES_WINDOW_S)
    if password and _password_matches(account, password, request) and not getattr(request, "axes_locked_out", False):
        return
    if password:
        cache.add(key, 0, timeout=settings.PASSWORD_GUESSES_WINDOW_S)
        try:
            cache.incr(key)
        except ValueError:  # expired between the two calls
            cache.add(key, 1, timeout=settings.PASSWORD_GUESSES_WINDOW_S)
    raise ValidationError({"current_password": [_("Enter your current password to change your e-mail address.")]})


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


def set_email_notifications(*, user: User, choice: str) -> None:
    """Which notifications reach the member by e-mail (an unsubscribe link sets `never`)."""
    if choice not in EmailNotifications.values:
        raise ValidationError({"email_notifications": [_("Not a valid choice.")]})
    User.objects.filter(pk=user.pk).update(email_notifications=choice)


def remember_language(*, user: User, language: str) -> None:
    """On sign-in: the language the member uses, for the e-mails the site sends them later."""
    if language and language != user.language:
        User.objects.filter(pk=user.pk).update(language=language)
        user.language = language
