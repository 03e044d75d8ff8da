"""Pages every app uses."""
from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.http import require_POST

from . import markdown


@require_POST
def markdown_preview(request):
    """Markdown preview, rendered and sanitised exactly as saved text would be."""
    body = request.POST.get("body", "")[: settings.MARKDOWN_MAX_LENGTH]
    return HttpResponse(markdown.render(body).html if body.strip() else "")
