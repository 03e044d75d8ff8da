"""Throttles whose rates are settings of their own (read when a request comes, so deployments and
tests change them without touching DRF's rate table), for the API and the pages alike."""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from rest_framework.throttling import UserRateThrottle

from .slots import client_id


class SettingRateThrottle(UserRateThrottle):
    """Per member, or per address for a visitor (DRF's ident), at the rate `setting` names."""

    setting = ""

    def get_rate(self) -> str:
        return getattr(settings, self.setting)

    def get_ident(self, request) -> str:
        """A visitor's address as core.slots counts it: an IPv6 /64 is one visitor (one
        subscriber holds a whole /64, so a new address from it is no new budget)."""
        return client_id(request, AnonymousUser())


def wait_for(request, *throttles: SettingRateThrottle) -> int:
    """Seconds until a page may act again under `throttles`, asked in order (0: now, and the act
    is counted by each; a refusal stops there): the pages and the API share one budget."""
    for throttle in throttles:
        if not throttle.allow_request(request, None):
            return max(1, round(throttle.wait() or 1))
    return 0
