"""Pages every app uses."""
from django.conf import settings
from django.http import HttpResponse
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import markdown
from .exceptions import wait_in_words
from .throttles import SettingRateThrottle, wait_for


class PreviewThrottle(SettingRateThrottle):
    scope = "markdown_preview"
    setting = "MARKDOWN_PREVIEW_RATE"


@require_POST
def markdown_preview(request):
    """Markdown preview, rendered and sanitised exactly as saved text would be. Rendering the
    longest text can take a second of CPU, so only members preview, within MARKDOWN_PREVIEW_RATE;
    a refusal is plain text, shown where the preview would be."""
    if not request.user.is_authenticated:
        return HttpResponse(escape(_("Sign in to preview.")), status=403)
    if wait := wait_for(request, PreviewThrottle()):
        return HttpResponse(escape(_("Too many previews. Try again in %(wait)s.") % {"wait": wait_in_words(wait)}),
                            status=429, headers={"Retry-After": str(wait)})
    body = request.POST.get("body", "")[: settings.MARKDOWN_MAX_LENGTH]
    return HttpResponse(markdown.render(body).html if body.strip() else "")
