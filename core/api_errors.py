"""API errors as docs/api.md promises: field errors as 400s, 429 with Retry-After, 503 when a
service is down, never a 500 for bad input."""
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .exceptions import RateLimited, ServiceUnavailable


class ServiceUnavailableError(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "A service this request needs is unavailable right now. Please try again shortly."


class ConflictError(exceptions.APIException):
    """409: the object is in a state that does not allow this now; the detail says why."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "This cannot be done now."


def exception_handler(exc, context):
    if isinstance(exc, RateLimited):
        return Response(
            {"detail": f"Too many requests. Try again in {exc.retry_after} seconds."},
            status=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(exc.retry_after)},
        )
    if isinstance(exc, ServiceUnavailable):
        exc = ServiceUnavailableError()
    elif isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": " ".join(exc.messages)}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    return drf_exception_handler(exc, context)
