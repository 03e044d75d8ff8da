"""Limits on what may be asked of the accounts pages: signing up, and the e-mail they send
(password resets, e-mail changes): per address or member asking, and per inbox written to, so one
inbox is not flooded from many."""
from __future__ import annotations

import hashlib

from core.throttles import SettingRateThrottle


class SignupThrottle(SettingRateThrottle):
    scope = "signup"
    setting = "ACCOUNT_SIGNUP_RATE"


class PasswordResetThrottle(SettingRateThrottle):
    scope = "password_reset"
    setting = "PASSWORD_RESET_RATE"


class InboxThrottle(SettingRateThrottle):
    """Per e-mail address written to, whoever asks (the address is hashed in the cache key)."""

    def __init__(self, email: str):
        super().__init__()
        self.inbox = hashlib.sha256(email.strip().lower().encode()).hexdigest()

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.inbox}


class PasswordResetInboxThrottle(InboxThrottle):
    scope = "password_reset_inbox"
    setting = "PASSWORD_RESET_EMAIL_RATE"


class EmailChangeThrottle(SettingRateThrottle):
    """Confirmation links a member asks for (each costs a password check and two e-mails)."""

    scope = "email_change"
    setting = "EMAIL_CHANGE_RATE"


class EmailChangeInboxThrottle(InboxThrottle):
    scope = "email_change_inbox"
    setting = "PASSWORD_RESET_EMAIL_RATE"
