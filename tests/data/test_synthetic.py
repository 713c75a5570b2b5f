"""The synthetic ratings generator with a planted low-rank structure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys_ref.data import make_synthetic_ratings


def test_shapes_and_columns():
    ratings, true_matrix = make_synthetic_ratings(30, 20, rank=2, density=0.4, seed=0)

    assert true_matrix.shape == (30, 20)
    assert list(ratings.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert all(dtype == np.int64 for dtype in ratings.dtypes)


def test_ids_are_one_based_and_every_user_and_item_is_rated():
    ratings, _ = make_synthetic_ratings(40, 25, density=0.02, seed=1)  # very sparse

    assert sorted(ratings["user_id"].unique()) == list(range(1, 41))
    assert sorted(ratings["item_id"].unique()) == list(range(1, 26))


def test_ratings_are_integers_1_to_5_once_per_pair():
    ratings, _ = make_synthetic_ratings(50, 40, density=0.5, noise=1.0, seed=2)

    assert ratings["rating"].between(1, 5).all()
    assert not ratings.duplicated(["user_id", "item_id"]).any()


def test_without_noise_ratings_are_the_rounded_true_matrix():
    ratings, true_matrix = make_synthetic_ratings(30, 20, density=0.6, noise=0.0, seed=3)

    expected = np.clip(np.round(true_matrix[ratings["user_id"] - 1, ratings["item_id"] - 1]), 1, 5)
    np.testing.assert_array_equal(ratings["rating"].to_numpy(), expected)


def test_noise_changes_some_ratings():
    clean, _ = make_synthetic_ratings(30, 20, density=1.0, noise=0.0, seed=4)
    noisy, _ = make_synthetic_ratings(30, 20, density=1.0, noise=1.0, seed=4)

    assert (clean["rating"] != noisy["rating"]).mean() > 0.2


def test_true_matrix_has_the_planted_rank_and_unit_variance():
    _, true_matrix = make_synthetic_ratings(120, 80, rank=4, seed=5)

    assert np.linalg.matrix_rank(true_matrix - 3.0) == 4
    assert np.std(true_matrix - 3.0) == pytest.approx(1.0, abs=0.25)
    assert np.mean((true_matrix >= 1) & (true_matrix <= 5)) > 0.9


def test_same_seed_same_data_and_different_seed_different_data():
    first = make_synthetic_ratings(30, 20, density=0.3, noise=0.5, seed=6)
    again = make_synthetic_ratings(30, 20, density=0.3, noise=0.5, seed=6)
    other = make_synthetic_ratings(30, 20, density=0.3, noise=0.5, seed=7)

    pd.testing.assert_frame_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[1], other[1])


@pytest.mark.parametrize("density", [0.1, 0.3, 0.7])
def test_density_is_roughly_as_asked(density):
    n_users, n_items = 200, 150
    ratings, _ = make_synthetic_ratings(n_users, n_items, density=density, seed=8)

    assert len(ratings) / (n_users * n_items) == pytest.approx(density, abs=0.02)


def test_density_one_observes_every_cell():
    ratings, _ = make_synthetic_ratings(12, 9, density=1.0, seed=9)

    assert len(ratings) == 12 * 9


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"density": 0.0}, r"density must be in \(0, 1\], got 0.0"),
        ({"density": 1.5}, r"density must be in \(0, 1\], got 1.5"),
        ({"rank": 0}, "rank must be at least 1, got 0"),
        ({"n_users": 0}, "n_users must be at least 1, got 0"),
        ({"noise": -1.0}, "noise must be >= 0, got -1.0"),
    ],
)
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_synthetic_ratings(**kwargs)


def test_sample_synthetic_ratings_draws_distinct_pairs_in_range():
    from recsys_ref.data import sample_synthetic_ratings

    ratings = sample_synthetic_ratings(300, 200, 3000, rank=3, seed=1)
    assert len(ratings) == 3000
    assert not ratings.duplicated(["user_id", "item_id"]).any()
    assert ratings["user_id"].between(1, 300).all() and ratings["item_id"].between(1, 200).all()
    assert set(ratings["rating"]) <= {1, 2, 3, 4, 5}
    counts = ratings["item_id"].value_counts()
    assert counts.iloc[0] > 2 * counts.median(), "item popularity is skewed, as in real data"
    pd.testing.assert_frame_equal(ratings, sample_synthetic_ratings(300, 200, 3000, rank=3, seed=1))


def test_sample_synthetic_ratings_refuses_more_ratings_than_cells():
    from recsys_ref.data import sample_synthetic_ratings

    with pytest.raises(ValueError, match="do not fit"):
        sample_synthetic_ratings(3, 3, 10)


def test_make_synthetic_ratings_refuses_a_dense_matrix_too_large():
    with pytest.raises(ValueError, match="sample_synthetic_ratings"):
        make_synthetic_ratings(70_000, 11_000)
