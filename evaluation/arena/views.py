"""The arena's pages: start a battle, watch and judge it, my battles, the leaderboard, and the
moderators' page for voiding a member's votes."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.charts import heatmap, intervals
from core.exceptions import RateLimited, ServiceUnavailable, wait_in_words
from core.throttles import wait_for
from core.permissions import moderator_required
from playground.models import GenerationJob

from . import leaderboard as boards
from . import permissions, services
from ..models.arena import Battle, BattleMode, Vote, Winner
from .forms import BattleForm, VoidVotesForm, VoteForm
from .throttles import BattleThrottle, VoteThrottle

BATTLES_PAGE_SIZE = 20
SORTS = {"rating": lambda r: -r["rating"], "battles": lambda r: -r["battles"], "wins": lambda r: -r["wins"],
         "model": lambda r: r["model"].lower()}


def index(request):
    """The prompt box, or why there can be no battle yet."""
    form = BattleForm(request.POST or None, user=request.user, query=request.GET)
    contenders = services.contenders()
    blind_ok = len(contenders) >= 2
    # With fewer than two public models a member may still compare their own drafts (a fine-tune
    # against its base): the form opens in compare mode rather than not at all.
    compare_ok = blind_ok or form.fields["model_a"].queryset.count() >= 2
    if not blind_ok:
        form.initial["mode"] = BattleMode.COMPARE
    status = 200
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        wait = wait_for(request, BattleThrottle())
        if wait:
            form.add_error(None, _("You are starting battles too fast. Try again in %(wait)s.")
                           % {"wait": wait_in_words(wait)})
        elif form.is_valid():
            try:
                battle = services.start_battle(user=request.user, prompt=form.cleaned_data["prompt"],
                                               models=form.chosen_models(), source=GenerationJob.Source.WEB)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            except RateLimited as exc:
                form.add_error(None, _("You have too many runs going or this hour's quota is used up. "
                                       "Try again in %(wait)s.") % {"wait": wait_in_words(exc.retry_after)})
            except ServiceUnavailable:
                form.add_error(None, _("The inference queue is unavailable. Please try again shortly."))
            else:
                return redirect(battle)
        status = 400
    return render(request, "evaluation/arena/index.html", {
        "form": form, "contenders": contenders, "enough": compare_ok, "blind_ok": blind_ok,
    }, status=status)


@login_required
def battle(request, pk: int):
    battle = get_object_or_404(Battle.objects.owned_by(request.user).with_parts(), pk=pk)
    return render(request, "evaluation/arena/battle.html", {
        "battle": battle, "winners": Winner.choices, "can_vote": permissions.can_vote(request.user, battle),
    })


@login_required
@require_POST
def vote(request, pk: int):
    battle = get_object_or_404(Battle.objects.owned_by(request.user), pk=pk)
    form = VoteForm(request.POST)
    wait = wait_for(request, VoteThrottle())
    if wait:
        messages.error(request, _("You are voting too fast. Try again in %(wait)s.") % {"wait": wait_in_words(wait)})
        return redirect(battle)
    if not form.is_valid():
        messages.error(request, _("Choose A, B, tie or both bad."))
        return redirect(battle)
    try:
        services.vote(user=request.user, battle=battle, winner=form.cleaned_data["winner"])
    except services.VoteRefused as exc:
        messages.error(request, str(exc))
    return redirect(battle)


@login_required
@require_POST
def stop(request, pk: int):
    battle = get_object_or_404(Battle.objects.owned_by(request.user).with_parts(), pk=pk)
    services.stop_battle(user=request.user, battle=battle)
    return redirect(battle)


@login_required
def battles(request):
    page = Paginator(Battle.objects.owned_by(request.user).with_parts(), BATTLES_PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render(request, "evaluation/arena/battles.html", {"page": page})


def leaderboard(request):
    board = boards.current()
    sort = request.GET.get("sort") if request.GET.get("sort") in SORTS else "rating"
    rows = sorted(board.results, key=SORTS[sort])
    return render(request, "evaluation/arena/leaderboard.html", {
        "board": board, "rows": rows, "sort": sort,
        "best": {key: max((r[key] for r in board.results), default=None) for key in ("rating", "battles", "wins")},
        "interval_chart": intervals([r["model"] for r in board.results], [r["rating"] for r in board.results],
                                    [r["ci_low"] for r in board.results], [r["ci_high"] for r in board.results],
                                    # xgettext:no-python-format
                                    label=_("Ratings with 95% confidence intervals")),
        "matrix_chart": heatmap(board.models, board.win_rate, counts=board.battles,
                                label=_("Share of battles the row's model won against the column's")),
    })


@moderator_required
def moderation(request):
    """Voters by number of votes; a moderator voids all of one member's standing votes."""
    form = VoidVotesForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        n = services.void_votes(moderator=request.user, member=form.cleaned_data["username"],
                                reason=form.cleaned_data["reason"])
        messages.success(request, _("%(n)d votes voided; the leaderboard refits without them.") % {"n": n})
        return redirect("arena:moderation")
    page = Paginator(Vote.objects.voters(), BATTLES_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "evaluation/arena/moderation.html", {"page": page, "form": form},
                  status=400 if form.is_bound else 200)
