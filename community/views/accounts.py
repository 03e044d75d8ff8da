"""Sign-up, profiles and the settings page (profile and API tokens)."""
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ..authentication import create_token
from ..forms import ProfileForm, SignupForm, TokenForm
from ..models import Thread, User


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome, %(name)s! Your account is ready.") % {"name": user.username})
        return redirect(request.GET.get("next") or "home")
    return render(request, "registration/signup.html", {"form": form})


def profile(request, username: str):
    person = get_object_or_404(User.objects.with_counts(), username=username, is_active=True)
    threads = Thread.objects.visible_to(request.user).filter(author=person).for_list().latest()[:20]
    posts = (person.posts.visible_to(request.user).filter(position__gt=1, thread__is_hidden=False)
             .select_related("thread").order_by("-created_at")[:20])
    return render(request, "community/profile.html",
                  {"person": person, "threads": threads, "posts": posts})


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request):
    profile_form = ProfileForm(instance=request.user)
    token_form = TokenForm()
    new_key = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "profile":
            profile_form = ProfileForm(request.POST, instance=request.user)
            if profile_form.is_valid():
                profile_form.save()
                messages.success(request, _("Profile saved."))
                return redirect("settings")
        elif action == "create_token":
            token_form = TokenForm(request.POST)
            if token_form.is_valid():
                _token, new_key = create_token(user=request.user, name=token_form.cleaned_data["name"])
                token_form = TokenForm()
        elif action == "revoke_token":
            request.user.api_tokens.filter(pk=request.POST.get("token")).delete()
            messages.success(request, _("Token revoked."))
            return redirect("settings")
    return render(request, "registration/settings.html", {
        "profile_form": profile_form, "token_form": token_form, "new_key": new_key,
        "tokens": request.user.api_tokens.all(),
    })
