"""Bradley–Terry ratings by maximum likelihood, on the scale LMSYS's Chatbot Arena uses.

Follows FastChat's `fastchat/serve/monitor/elo_analysis.py` (`compute_elo_mle_with_tie` and its
bootstrap): P(i beats j) = 1 / (1 + 10^((R_j - R_i) / 400)), ratings centred on 1000; a tie
(and "both bad", which LMSYS records as "tie (bothbad)") is half a win for each side; 95%
confidence intervals are the 2.5th and 97.5th percentiles of the ratings refitted on bootstrap
resamples of the votes.

Votes are first aggregated into counts per pair of models (first-wins, tie, second-wins), so a
fit costs the same for 100 votes or 100,000. A bootstrap resample draws the same number of votes
from those cells (a multinomial), and all resamples are fitted together on stacked arrays,
starting from the data's own fit (found by Newton's method: the Hessian of the Bradley–Terry
log-likelihood is a weighted graph Laplacian, so each step is an n×n solve); their steps reuse
the data's Hessian, inverted once. A ridge of RIDGE (in vote units) keeps a model that has
never lost finite and pins the ratings' mean; with real counts it moves nothing measurably.

No Django here: the arena's leaderboard feeds it counts, the tests feed it synthetic votes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SCALE = 400.0
BASE = 10.0
INIT_RATING = 1000.0
RIDGE = 1e-4
BOOTSTRAP_ROUNDS = 500
MAX_ITERATIONS = 60
CHORD_ITERATIONS = 12
MAX_STEP = 2.0  # natural-log units per Newton step: no overshoot from a flat start
TOLERANCE = 1e-5  # natural-log units: 0.002 rating points

FIRST, TIE, SECOND = 0, 1, 2  # the columns of the outcome counts


@dataclass(frozen=True)
class PairCounts:
    """Outcome counts per unordered pair of models: `first[p] < second[p]` index `models`, and
    `counts[p]` holds (first won, tie, second won)."""

    models: list[str]
    first: np.ndarray
    second: np.ndarray
    counts: np.ndarray

    @property
    def votes(self) -> int:
        return int(self.counts.sum())


def pair_counts(rows) -> PairCounts:
    """Aggregate (model_a, model_b, outcome, n) rows, outcome "a", "b" or "tie", into counts per
    unordered pair (which side a model was shown on does not matter to the model)."""
    models = sorted({name for a, b, _outcome, _n in rows for name in (a, b)})
    index = {name: i for i, name in enumerate(models)}
    cells: dict[tuple[int, int], list[int]] = {}
    for a, b, outcome, n in rows:
        i, j = index[a], index[b]
        if i == j:
            continue
        flip = i > j
        cell = cells.setdefault((min(i, j), max(i, j)), [0, 0, 0])
        column = TIE if outcome == "tie" else (FIRST if (outcome == "a") != flip else SECOND)
        cell[column] += int(n)
    keys = sorted(cells)
    return PairCounts(
        models=models,
        first=np.array([k[0] for k in keys], dtype=np.intp),
        second=np.array([k[1] for k in keys], dtype=np.intp),
        counts=np.array([cells[k] for k in keys], dtype=np.float64).reshape(-1, 3),
    )


class _Design:
    """The pairs as matrices: θ @ transposed gives each pair's θi - θj; a per-pair vector
    @ incidence sums it onto the models (+ for the first, - for the second)."""

    def __init__(self, first: np.ndarray, second: np.ndarray, n_models: int):
        pairs = np.arange(len(first))
        self.n = n_models
        self.incidence = np.zeros((len(first), n_models))
        self.incidence[pairs, first] = 1.0
        self.incidence[pairs, second] = -1.0
        self.adjacency = np.abs(self.incidence)
        self.transposed = np.ascontiguousarray(self.incidence.T)
        # The Hessian (a Laplacian weighted by each pair's variance), written through flat indices.
        self.upper, self.lower = first * n_models + second, second * n_models + first
        self.diagonal = np.arange(n_models) * (n_models + 1)

    def gradient(self, theta: np.ndarray, score: np.ndarray, played: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The log-likelihood's gradient (ridge included) and each pair's weight in its Hessian."""
        p = 1.0 / (1.0 + np.exp(-(theta @ self.transposed)))
        return (score - played * p) @ self.incidence - RIDGE * theta, played * p * (1.0 - p)

    def hessian(self, weight: np.ndarray) -> np.ndarray:
        """(B, n, n): minus the log-likelihood's Hessian for each row of pair weights."""
        hessian = np.zeros((weight.shape[0], self.n * self.n))
        hessian[:, self.upper] = -weight
        hessian[:, self.lower] = -weight
        hessian[:, self.diagonal] = weight @ self.adjacency + RIDGE
        return hessian.reshape(-1, self.n, self.n)


def _points(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(score, played) per stack and pair: the first model's points (a tie is half) and the votes."""
    return counts[..., FIRST] + 0.5 * counts[..., TIE], counts.sum(axis=-1)


def _newton(design: _Design, counts: np.ndarray, theta: np.ndarray) -> np.ndarray:
    score, played = _points(counts)
    for _ in range(MAX_ITERATIONS):
        gradient, weight = design.gradient(theta, score, played)
        step = np.linalg.solve(design.hessian(weight), gradient[..., None])[..., 0]
        theta = theta + np.clip(step, -MAX_STEP, MAX_STEP)
        if np.abs(step).max() < TOLERANCE:
            break
    return theta


def fit_natural(first: np.ndarray, second: np.ndarray, counts: np.ndarray, n_models: int) -> np.ndarray:
    """Strengths on the natural-log scale, by Newton's method from 0, for each stack of counts:
    `counts` is (P, 3) or (B, P, 3); returns (n_models,) or (B, n_models).
    P(i beats j) = sigmoid(θi - θj)."""
    single = counts.ndim == 2
    counts = counts[None] if single else counts
    theta = _newton(_Design(first, second, n_models), counts, np.zeros((counts.shape[0], n_models)))
    return theta[0] if single else theta


def refit_near(first: np.ndarray, second: np.ndarray, counts: np.ndarray, n_models: int, *,
               theta: np.ndarray, data: np.ndarray) -> np.ndarray:
    """Fits of (B, P, 3) resamples of `data` (P, 3), whose fit is `theta`. A resample's fit lies
    close to the data's, so its Newton steps can all use the data's Hessian, inverted once (a
    chord method: a matrix product per step, no solves); the few resamples it leaves unsettled
    (one that drew no votes for a pair, say) get full Newton steps."""
    design = _Design(first, second, n_models)
    score, played = _points(counts)
    inverse = np.linalg.inv(design.hessian(design.gradient(theta[None], *_points(data[None]))[1])[0])
    fits = np.tile(theta, (counts.shape[0], 1))
    for _ in range(CHORD_ITERATIONS):
        step = design.gradient(fits, score, played)[0] @ inverse
        fits += np.clip(step, -MAX_STEP, MAX_STEP)
        unsettled = np.abs(step).max(axis=1) >= TOLERANCE
        if not unsettled.any():
            return fits
    fits[unsettled] = _newton(design, counts[unsettled], fits[unsettled])
    return fits


def to_rating(theta: np.ndarray) -> np.ndarray:
    """Natural-log strengths to the arena's scale (400 per factor of 10 in the odds, mean 1000)."""
    return INIT_RATING + SCALE * theta / math.log(BASE)


@dataclass(frozen=True)
class Ratings:
    models: list[str]
    rating: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray


def ratings(data: PairCounts, *, rounds: int = BOOTSTRAP_ROUNDS, seed: int = 0,
            level: float = 0.95) -> Ratings:
    """Maximum-likelihood ratings and percentile-bootstrap confidence intervals (`rounds`
    resamples of as many votes as there are, drawn with replacement)."""
    n_models = len(data.models)
    if n_models == 0:
        empty = np.zeros(0)
        return Ratings([], empty, empty, empty)
    theta = fit_natural(data.first, data.second, data.counts, n_models)
    total = data.votes
    cells = data.counts.reshape(-1)
    rng = np.random.default_rng(seed)
    resampled = rng.multinomial(total, cells / total, size=rounds).astype(np.float64)
    boot = to_rating(refit_near(data.first, data.second, resampled.reshape(rounds, -1, 3), n_models,
                                theta=theta, data=data.counts))
    point = to_rating(theta)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(boot, [tail, 1.0 - tail], axis=0)
    return Ratings(data.models, point, low, high)


def win_rates(data: PairCounts) -> tuple[np.ndarray, np.ndarray]:
    """(wins, battles): wins[i, j] how often model i beat model j (ties are not wins, as in
    LMSYS's pairwise win-fraction chart); battles[i, j] how often they met."""
    n = len(data.models)
    wins = np.zeros((n, n), dtype=np.int64)
    battles = np.zeros((n, n), dtype=np.int64)
    c = data.counts.astype(np.int64)
    wins[data.first, data.second] = c[:, FIRST]
    wins[data.second, data.first] = c[:, SECOND]
    battles[data.first, data.second] = battles[data.second, data.first] = c.sum(axis=1)
    return wins, battles
