"""GlobalMean and BiasBaseline: hand examples, planted biases, fallbacks, clipping, ranking scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys_ref.baselines import BiasBaseline, GlobalMean
from recsys_ref.data import random_split
from recsys_ref.metrics import rmse

# Three ratings, written out:
#   (user 1, item 1, 5), (user 1, item 2, 3), (user 2, item 1, 3)
#   mu = 11/3; residuals r - mu = 4/3, -2/3, -2/3.
# One sweep, no regularisation:
#   b_item1 = (4/3 - 2/3) / 2 = 1/3          b_item2 = (-2/3) / 1 = -2/3
#   b_user1 = ((4/3 - 1/3) + (-2/3 + 2/3)) / 2 = 1/2
#   b_user2 = (-2/3 - 1/3) / 1 = -1
# One sweep, item_reg = 1, user_reg = 2 (the biases shrink towards 0):
#   b_item1 = (2/3) / (1 + 2) = 2/9          b_item2 = (-2/3) / (1 + 1) = -1/3
#   b_user1 = ((4/3 - 2/9) + (-2/3 + 1/3)) / (2 + 2) = 7/36
#   b_user2 = (-2/3 - 2/9) / (2 + 1) = -8/27
THREE = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [1, 2, 1], "rating": [5, 3, 3]})


@pytest.fixture(scope="module")
def planted_biases():
    """600 x 300 ratings (density 10 %) made of mu + b_u + b_i + noise, rounded to 1..5."""
    rng = np.random.default_rng(0)
    n_users, n_items = 600, 300
    user_bias = rng.normal(0, 0.6, n_users)
    item_bias = rng.normal(0, 0.6, n_items)
    users, items = np.nonzero(rng.random((n_users, n_items)) < 0.1)
    values = 3.5 + user_bias[users] + item_bias[items] + rng.normal(0, 0.5, len(users))
    ratings = pd.DataFrame(
        {
            "user_id": users + 1,
            "item_id": items + 1,
            "rating": np.clip(np.round(values), 1, 5).astype(np.int64),
        }
    )
    return ratings, user_bias, item_bias


# --- GlobalMean ---------------------------------------------------------------------------


def test_global_mean_predicts_the_training_mean_for_every_pair():
    model = GlobalMean()

    assert model.fit(THREE) is model
    assert model.global_mean == pytest.approx(11 / 3)
    np.testing.assert_allclose(model.predict([1, 2, 99], [1, 5, 99]), [11 / 3] * 3)


def test_global_mean_before_fit_or_on_nothing_raises():
    with pytest.raises(RuntimeError, match="before fit"):
        GlobalMean().predict([1], [1])
    with pytest.raises(ValueError, match="at least one rating"):
        GlobalMean().fit(THREE.head(0))


# --- BiasBaseline: the closed-form updates ----------------------------------------------------


def test_bias_baseline_one_unregularised_sweep_by_hand():
    model = BiasBaseline(user_reg=0.0, item_reg=0.0, n_sweeps=1)

    assert model.fit(THREE) is model
    assert model.global_mean == pytest.approx(11 / 3)
    np.testing.assert_allclose(model.bi, [1 / 3, -2 / 3])  # bi[i - 1] is item i's bias
    np.testing.assert_allclose(model.bu, [1 / 2, -1])
    np.testing.assert_allclose(model.predict([1, 2], [1, 2]), [4.5, 2.0])


def test_bias_baseline_one_regularised_sweep_by_hand():
    model = BiasBaseline(user_reg=2.0, item_reg=1.0, n_sweeps=1).fit(THREE)

    np.testing.assert_allclose(model.bi, [2 / 9, -1 / 3])
    np.testing.assert_allclose(model.bu, [7 / 36, -8 / 27])


def test_bias_baseline_converges_to_the_regularised_least_squares_solution(planted_biases):
    """At the optimum of sum (r - mu - b_u - b_i)^2 + l_u sum b_u^2 + l_i sum b_i^2,
    each bias equals its residual sum divided by (lambda + count)."""
    ratings, _, _ = planted_biases
    model = BiasBaseline(user_reg=15.0, item_reg=10.0, n_sweeps=60).fit(ratings)
    users, items = ratings["user_id"].to_numpy() - 1, ratings["item_id"].to_numpy() - 1
    residual = ratings["rating"].to_numpy() - model.global_mean - model.bu[users] - model.bi[items]

    np.testing.assert_allclose(np.bincount(items, residual), 10.0 * model.bi, atol=1e-6)
    np.testing.assert_allclose(np.bincount(users, residual), 15.0 * model.bu, atol=1e-6)


def test_bias_baseline_recovers_planted_biases(planted_biases):
    ratings, user_bias, item_bias = planted_biases
    model = BiasBaseline().fit(ratings)

    assert np.corrcoef(model.bu, user_bias)[0, 1] > 0.9
    assert np.corrcoef(model.bi, item_bias)[0, 1] > 0.9


def test_bias_baseline_beats_the_global_mean_on_held_out_ratings(planted_biases):
    ratings, _, _ = planted_biases
    train, test = random_split(ratings, test_fraction=0.2, seed=0)

    def test_rmse(model):
        model.fit(train)
        return rmse(test["rating"], model.predict(test["user_id"], test["item_id"]))

    assert test_rmse(BiasBaseline()) < 0.8 * test_rmse(GlobalMean())


def test_bias_baseline_hyperparameters_change_the_result(planted_biases):
    ratings, _, _ = planted_biases
    users, items = ratings["user_id"].head(50), ratings["item_id"].head(50)
    base = BiasBaseline().fit(ratings).predict(users, items)

    for changed in (
        BiasBaseline(user_reg=0.0),
        BiasBaseline(item_reg=100.0),
        BiasBaseline(n_sweeps=1),
    ):
        assert not np.allclose(changed.fit(ratings).predict(users, items), base)


# --- fallbacks and clipping -----------------------------------------------------------------


def test_bias_baseline_unknown_ids_fall_back_to_the_known_bias():
    # User 3 and item 3 lie inside the id range but have no rating; 99 lies above it.
    train = pd.DataFrame({"user_id": [1, 2, 4, 4], "item_id": [1, 2, 1, 4], "rating": [5, 2, 4, 3]})
    model = BiasBaseline(rating_range=(-100.0, 100.0)).fit(train)
    mu, bu, bi = model.global_mean, model.bu, model.bi

    np.testing.assert_allclose(model.predict([3, 99], [1, 1]), mu + bi[0])
    np.testing.assert_allclose(model.predict([2, 2], [3, 99]), mu + bu[1])
    np.testing.assert_allclose(model.predict([3, 99], [3, 99]), mu)
    np.testing.assert_allclose(model.predict([4], [4]), mu + bu[3] + bi[3])


def test_unregularised_bias_baseline_gives_unseen_ids_bias_zero_not_nan():
    # With lambda = 0 an id without ratings has 0 / (0 + 0) as its bias.
    train = pd.DataFrame({"user_id": [1, 1, 3], "item_id": [1, 3, 3], "rating": [5, 3, 4]})
    model = BiasBaseline(user_reg=0.0, item_reg=0.0, rating_range=(-100.0, 100.0)).fit(train)
    mu, bu, bi = model.global_mean, model.bu, model.bi

    assert np.isfinite(bu).all() and np.isfinite(bi).all()
    assert bu[1] == 0.0 and bi[1] == 0.0  # user 2 and item 2
    np.testing.assert_allclose(model.predict([2, 1, 9], [1, 2, 9]), [mu + bi[0], mu + bu[0], mu])


def test_bias_baseline_clips_to_the_rating_range(planted_biases):
    ratings, _, _ = planted_biases
    users, items = ratings["user_id"], ratings["item_id"]

    default = BiasBaseline().fit(ratings).predict(users, items)
    narrow = BiasBaseline(rating_range=(3.0, 4.0)).fit(ratings).predict(users, items)

    assert default.min() >= 1.0 and default.max() <= 5.0
    assert narrow.min() == 3.0 and narrow.max() == 4.0
    inside = (default > 3.0) & (default < 4.0)
    np.testing.assert_array_equal(narrow[inside], default[inside])  # in-range values untouched


def test_bias_baseline_before_fit_or_on_nothing_raises():
    with pytest.raises(RuntimeError, match="before fit"):
        BiasBaseline().predict([1], [1])
    with pytest.raises(ValueError, match="at least one rating"):
        BiasBaseline().fit(THREE.head(0))


def test_bias_baseline_keeps_the_raw_id_aliases_of_earlier_releases():
    """user_bias / item_bias (indexed by raw id, entry 0 unused) stay for the book until it switches."""
    model = BiasBaseline(n_sweeps=1).fit(THREE)

    np.testing.assert_array_equal(model.user_bias, np.r_[0.0, model.bu])
    np.testing.assert_array_equal(model.item_bias, np.r_[0.0, model.bi])


# --- ranking scores ---------------------------------------------------------------------------


def test_global_mean_scores_every_item_the_same():
    scores = GlobalMean().fit(THREE).score_items([1, 2, 99], n_items=4)

    np.testing.assert_allclose(scores, np.full((3, 4), 11 / 3))


def test_bias_baseline_ranks_by_item_bias_and_scores_unclipped(planted_biases):
    ratings, _, _ = planted_biases
    model = BiasBaseline(rating_range=(1.0, 5.0)).fit(ratings)

    scores = model.score_items([1, 2])

    assert scores.shape == (2, 300)
    np.testing.assert_allclose(
        scores[0] - scores[1], model.bu[0] - model.bu[1]
    )  # same order for everyone
    np.testing.assert_allclose(scores[0], model.global_mean + model.bu[0] + model.bi)
    everyone = model.score_items(np.arange(1, 601))
    assert everyone.max() > 5.0 or everyone.min() < 1.0  # not clipped, unlike predict
