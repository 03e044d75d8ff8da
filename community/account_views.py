"""Sign-up and the settings page: the member's profile and API tokens."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from core import services as core_services
from core.exceptions import RateLimited, wait_in_words
from core.throttles import wait_for

from . import accounts, emails, moderation, services
from .forms import (MemberLoginForm, ProfileForm, RevokeTokenForm, SignupForm, SuspensionForm, TokenForm,
                    add_errors)
from .models import EmailNotifications, User
from .throttles import EmailChangeInboxThrottle, PasswordResetInboxThrottle, PasswordResetThrottle, SignupThrottle


def _safe_next(request) -> str | None:
    """The `next` URL when it stays on this site (over HTTPS when the request is), else None."""
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return None


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if wait := wait_for(request, SignupThrottle(), EmailChangeInboxThrottle(form.cleaned_data["email"])):
            form.add_error(None, _("Too many sign-ups from your address. Try again in %(wait)s.")
                           % {"wait": wait_in_words(wait)})
            return render(request, "registration/signup.html", {"form": form}, status=429)
        user = accounts.sign_up(form=form, request=request)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome, %(name)s! We sent a link to %(email)s: follow it to confirm your "
                                    "address.") % {"name": user.username, "email": user.pending_email})
        return redirect(_safe_next(request) or "home")
    return render(request, "registration/signup.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def email_confirm(request, token: str):
    """The link sent to a new address, for the member who asked, signed in. Opening it asks for a
    click (mail scanners open links); the click moves the account to the address."""
    status = 200
    if request.method == "POST":
        try:
            account = accounts.confirm_email_change(user=request.user, token=token)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            status = 400
        else:
            messages.success(request, _("Your e-mail address is now %(email)s.") % {"email": account.email})
            return redirect("settings")
    return render(request, "registration/email_confirm.html", {"title": _("Confirm your new e-mail address")},
                  status=status)


@csrf_exempt  # the signed link is the credential; mail clients' one-click POST (RFC 8058) has no token
@require_http_methods(["GET", "POST"])
def email_unsubscribe(request, token: str):
    """A notification e-mail's unsubscribe link: opening it asks (mail scanners open links), and
    the click, or a mail client's one-click POST, turns notification e-mails off."""
    person = emails.user_for_token(token)
    if person is None:
        raise Http404
    if request.method == "POST":
        accounts.set_email_notifications(user=person, choice=EmailNotifications.NEVER)
    return render(request, "registration/unsubscribe.html", {"person": person, "done": request.method == "POST"})


@login_required
@require_POST
def suspension(request, username: str):
    """A moderator's form on a profile: suspend the member (days and a reason), or lift it."""
    member = get_object_or_404(User, username__lower_exact=username)
    form = SuspensionForm(request.POST)
    try:
        if request.POST.get("action") == "lift":
            moderation.lift_suspension(moderator=request.user, member=member)
            messages.success(request, _("The suspension is lifted."))
        elif form.is_valid():
            moderation.suspend_member(moderator=request.user, member=member, **form.cleaned_data)
            messages.success(request, _("@%(name)s is suspended.") % {"name": member.username})
        else:
            for errors in form.errors.values():
                messages.error(request, " ".join(errors))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(member.get_absolute_url())


@login_required
@require_POST
def mute(request, username: str):
    """Mute or unmute a member from their profile (or the settings page's list)."""
    member = get_object_or_404(User, username__lower_exact=username)
    muted = request.POST.get("muted") == "1"
    try:
        services.set_mute(user=request.user, member=member, muted=muted)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, (_("You muted @%(name)s.") if muted else _("You unmuted @%(name)s."))
                         % {"name": member.username})
    return redirect(_safe_next(request) or member.get_absolute_url())


class LoginView(auth_views.LoginView):
    authentication_form = MemberLoginForm


class PasswordResetView(auth_views.PasswordResetView):
    """Django's, with a limit per address asking and per e-mail address asked for (the answer is
    the same whether a member has that address or not)."""

    def form_valid(self, form):
        if wait := wait_for(self.request, PasswordResetThrottle(),
                            PasswordResetInboxThrottle(form.cleaned_data["email"])):
            form.add_error(None, _("Too many password reset requests. Try again in %(wait)s.")
                           % {"wait": wait_in_words(wait)})
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().form_valid(form)


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request):
    profile_form = ProfileForm(instance=request.user)
    token_form = TokenForm()
    new_key = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "profile":
            # A copy: validating a ModelForm writes into its instance, and request.user must
            # keep the saved values when the service refuses the change.
            profile_form = ProfileForm(request.POST, instance=User.objects.get(pk=request.user.pk))
            if profile_form.is_valid():
                try:
                    accounts.update_profile(user=request.user, request=request, **profile_form.cleaned_data)
                except ValidationError as exc:
                    add_errors(profile_form, exc)
                except RateLimited as exc:
                    profile_form.add_error("email", _("Too many e-mail changes asked for. Try again in %(wait)s.")
                                           % {"wait": wait_in_words(exc.retry_after)})
                else:
                    messages.success(request, _("Profile saved."))
                    return redirect("settings")
        elif action == "cancel_email_change":
            accounts.cancel_email_change(user=request.user)
            messages.success(request, _("The e-mail change was cancelled."))
            return redirect("settings")
        elif action == "create_token":
            token_form = TokenForm(request.POST)
            if token_form.is_valid():
                try:
                    _token, new_key = core_services.create_token(user=request.user,
                                                                 name=token_form.cleaned_data["name"])
                except ValidationError as exc:
                    add_errors(token_form, exc)
                else:
                    token_form = TokenForm()
        elif action == "revoke_token":
            revoke = RevokeTokenForm(request.POST)
            if not revoke.is_valid():
                return HttpResponse(_("Invalid token."), status=400)
            if core_services.revoke_token(user=request.user, token_id=revoke.cleaned_data["token"]):
                messages.success(request, _("Token revoked."))
            return redirect("settings")
    return render(request, "registration/settings.html", {
        "profile_form": profile_form, "token_form": token_form, "new_key": new_key,
        "tokens": request.user.api_tokens.all(),
        "mutes": request.user.mutes.select_related("muted"),
    })
