"""Limits on what a visitor may ask of the accounts pages: signing up, and password-reset e-mail
(per address asking, and per e-mail address asked for, so one inbox is not flooded from many)."""
from __future__ import annotations

import hashlib

from core.throttles import SettingRateThrottle


class SignupThrottle(SettingRateThrottle):
    scope = "signup"
    setting = "ACCOUNT_SIGNUP_RATE"


class PasswordResetThrottle(SettingRateThrottle):
    scope = "password_reset"
    setting = "PASSWORD_RESET_RATE"


class PasswordResetInboxThrottle(SettingRateThrottle):
    scope = "password_reset_inbox"
    setting = "PASSWORD_RESET_EMAIL_RATE"

    def __init__(self, email: str):
        super().__init__()
        self.inbox = hashlib.sha256(email.strip().lower().encode()).hexdigest()

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.inbox}
