"""Bradley–Terry fits on synthetic votes drawn from known strengths."""
import numpy as np
import pytest

from evaluation.arena import bradley_terry as bt

TRUE = np.array([-1.2, -0.6, -0.1, 0.3, 0.7, 0.9])  # natural-log strengths of six models
NAMES = [f"model-{i}" for i in range(len(TRUE))]


def synthetic_votes(rng, n_votes: int, *, tie_rate: float = 0.3) -> list[tuple[str, str, str, int]]:
    """Votes on random pairs whose expected score (ties as half wins) is the Bradley–Terry
    probability: a tie takes equal shares from win and loss."""
    a = rng.integers(0, len(TRUE), n_votes)
    b = (a + rng.integers(1, len(TRUE), n_votes)) % len(TRUE)
    p = 1.0 / (1.0 + np.exp(TRUE[b] - TRUE[a]))
    p_tie = tie_rate * 2 * np.minimum(p, 1 - p)
    u = rng.random(n_votes)
    outcome = np.where(u < p - p_tie / 2, "a", np.where(u < p + p_tie / 2, "tie", "b"))
    rows: dict[tuple, int] = {}
    for key in zip(a.tolist(), b.tolist(), outcome.tolist()):
        rows[key] = rows.get(key, 0) + 1
    return [(NAMES[i], NAMES[j], o, n) for (i, j, o), n in rows.items()]


def true_ratings() -> np.ndarray:
    return bt.to_rating(TRUE - TRUE.mean())  # the fit is centred on 1000, so the truth is too


def test_ratings_recover_the_ordering():
    result = bt.ratings(bt.pair_counts(synthetic_votes(np.random.default_rng(7), 4000)), rounds=200)
    assert result.models == NAMES
    assert list(np.argsort(result.rating)) == list(range(len(TRUE)))
    assert np.abs(result.rating - true_ratings()).max() < 40
    assert result.rating.mean() == pytest.approx(bt.INIT_RATING, abs=0.01)


def test_confidence_intervals_cover_the_true_ratings_at_about_95_percent():
    rng = np.random.default_rng(2026)
    covered = []
    for _ in range(40):
        result = bt.ratings(bt.pair_counts(synthetic_votes(rng, 1200)), rounds=300,
                            seed=int(rng.integers(1 << 30)))
        covered.extend((result.ci_low <= true_ratings()) & (true_ratings() <= result.ci_high))
    assert 0.85 <= np.mean(covered) <= 1.0


def test_intervals_narrow_as_votes_grow():
    rng = np.random.default_rng(3)
    few = bt.ratings(bt.pair_counts(synthetic_votes(rng, 300)), rounds=200)
    many = bt.ratings(bt.pair_counts(synthetic_votes(rng, 6000)), rounds=200)
    assert np.all(many.ci_high - many.ci_low < few.ci_high - few.ci_low)


def test_a_tie_is_half_a_win():
    one_each = bt.ratings(bt.pair_counts([("x", "y", "a", 1), ("x", "y", "b", 1)]), rounds=10)
    two_ties = bt.ratings(bt.pair_counts([("x", "y", "tie", 2)]), rounds=10)
    np.testing.assert_allclose(one_each.rating, two_ties.rating)
    assert list(two_ties.rating) == pytest.approx([1000, 1000])


def test_the_side_a_model_was_shown_on_does_not_matter():
    as_a = bt.pair_counts([("x", "y", "a", 3), ("x", "y", "b", 1)])
    as_b = bt.pair_counts([("y", "x", "b", 3), ("y", "x", "a", 1)])
    np.testing.assert_array_equal(as_a.counts, as_b.counts)


def test_the_scale_is_lmsys_400_per_factor_of_ten():
    # 10 wins to 1: odds of 10 are 400 points apart, about 1000 ± 200.
    result = bt.ratings(bt.pair_counts([("x", "y", "a", 1000), ("x", "y", "b", 100)]), rounds=10)
    assert result.rating[0] - result.rating[1] == pytest.approx(400, abs=0.5)


def test_a_model_that_never_lost_stays_finite():
    result = bt.ratings(bt.pair_counts([("x", "y", "a", 5), ("y", "z", "a", 2), ("z", "y", "a", 1)]), rounds=50)
    assert np.all(np.isfinite(result.rating)) and np.all(np.isfinite(result.ci_high))
    assert result.rating[0] > result.rating[1]


def test_win_rates_count_ties_as_battles_not_wins():
    data = bt.pair_counts([("x", "y", "a", 3), ("x", "y", "tie", 1), ("y", "x", "a", 2)])
    wins, battles = bt.win_rates(data)
    assert wins.tolist() == [[0, 3], [2, 0]]
    assert battles.tolist() == [[0, 6], [6, 0]]


@pytest.mark.parametrize("n_votes", [60, 5000])
def test_resamples_refitted_near_the_data_match_full_newton_fits(n_votes):
    rng = np.random.default_rng(11)
    data = bt.pair_counts(synthetic_votes(rng, n_votes))
    total = data.votes
    resampled = rng.multinomial(total, data.counts.reshape(-1) / total, size=50).astype(float).reshape(50, -1, 3)
    n = len(data.models)
    theta = bt.fit_natural(data.first, data.second, data.counts, n)
    near = bt.refit_near(data.first, data.second, resampled, n, theta=theta, data=data.counts)
    np.testing.assert_allclose(near, bt.fit_natural(data.first, data.second, resampled, n), atol=1e-4)
