"""Random and temporal train/test splits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys_ref.data import make_synthetic_ratings, random_split, temporal_split


@pytest.fixture
def many_ratings() -> pd.DataFrame:
    """About 2,000 synthetic ratings with random timestamps and a shuffled, non-default index."""
    ratings, _ = make_synthetic_ratings(80, 50, density=0.5, seed=3)
    ratings = ratings.sample(frac=1.0, random_state=0)
    return ratings.set_index(pd.Index(np.arange(len(ratings)) * 3 + 1000))


def assert_partition(ratings: pd.DataFrame, train: pd.DataFrame, test: pd.DataFrame) -> None:
    """Disjoint, complete, rows unchanged, each part in the original order."""
    assert not set(train.index) & set(test.index)
    assert len(train) + len(test) == len(ratings)
    together = pd.concat([train, test]).loc[ratings.index]
    pd.testing.assert_frame_equal(together, ratings)
    position = pd.Series(np.arange(len(ratings)), index=ratings.index)
    assert position[train.index].is_monotonic_increasing
    assert position[test.index].is_monotonic_increasing


# --- random split ----------------------------------------------------------------


def test_random_split_is_a_partition(many_ratings):
    train, test = random_split(many_ratings, test_fraction=0.2, seed=0)

    assert_partition(many_ratings, train, test)


@pytest.mark.parametrize(
    ("n_rows", "fraction", "n_test"), [(1000, 0.2, 200), (9, 0.25, 2), (9, 0.3, 3), (10, 0.5, 5)]
)
def test_random_split_sizes(n_rows, fraction, n_test):
    ratings = pd.DataFrame({"user_id": np.arange(n_rows) + 1, "item_id": 1, "rating": 3})

    train, test = random_split(ratings, test_fraction=fraction, seed=1)

    assert len(test) == n_test
    assert len(train) == n_rows - n_test


def test_random_split_same_seed_same_split(many_ratings):
    first = random_split(many_ratings, test_fraction=0.2, seed=7)
    second = random_split(many_ratings, test_fraction=0.2, seed=7)

    pd.testing.assert_frame_equal(first[0], second[0])
    pd.testing.assert_frame_equal(first[1], second[1])


def test_random_split_different_seeds_different_splits(many_ratings):
    tests = [
        set(random_split(many_ratings, test_fraction=0.2, seed=seed)[1].index) for seed in range(3)
    ]

    assert tests[0] != tests[1] and tests[1] != tests[2] and tests[0] != tests[2]
    assert len(tests[0]) == len(tests[1]) == len(tests[2])


def test_random_split_is_spread_over_the_whole_frame(many_ratings):
    # Not just the first or last rows: the test part is a random sample.
    _, test = random_split(many_ratings, test_fraction=0.2, seed=0)
    position = pd.Series(np.arange(len(many_ratings)), index=many_ratings.index)[test.index]

    assert position.min() < 0.1 * len(many_ratings)
    assert position.max() > 0.9 * len(many_ratings)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_random_split_invalid_fraction(tiny_ratings, fraction):
    with pytest.raises(
        ValueError, match=rf"test_fraction must be strictly between 0 and 1, got {fraction}\."
    ):
        random_split(tiny_ratings, test_fraction=fraction)


# --- temporal split --------------------------------------------------------------


def test_temporal_split_on_hand_made_ratings(tiny_ratings):
    train, test = temporal_split(tiny_ratings, test_fraction=0.5)

    # user 1: 3 ratings, round(1.5) = 2 held out: items 2 and 3 (both at t=300);
    # user 2: 2 ratings, 1 held out: item 4 (t=60); user 3: 3 ratings, 2 held
    # out: items 3 (t=30) and 5 (t=20); user 4: 1 rating, kept for training.
    assert sorted(zip(test["user_id"], test["item_id"])) == [(1, 2), (1, 3), (2, 4), (3, 3), (3, 5)]
    assert sorted(zip(train["user_id"], train["item_id"])) == [(1, 1), (2, 1), (3, 2), (4, 5)]
    assert_partition(tiny_ratings, train, test)


def test_temporal_split_breaks_timestamp_ties_by_row_order():
    ratings = pd.DataFrame(
        {"user_id": [1, 1, 1], "item_id": [7, 8, 9], "rating": [3, 4, 5], "timestamp": [5, 5, 1]}
    )

    train, test = temporal_split(ratings, test_fraction=0.4)

    assert test["item_id"].tolist() == [8]  # later row of the two at t=5
    assert train["item_id"].tolist() == [7, 9]


def test_temporal_split_holds_out_only_later_ratings(many_ratings):
    train, test = temporal_split(many_ratings, test_fraction=0.3)

    assert_partition(many_ratings, train, test)
    last_train = train.groupby("user_id")["timestamp"].max()
    first_test = test.groupby("user_id")["timestamp"].min()
    assert (first_test >= last_train[first_test.index]).all()


def test_temporal_split_keeps_a_training_rating_for_every_user(many_ratings, tiny_ratings):
    for ratings in (many_ratings, tiny_ratings):
        train, _ = temporal_split(ratings, test_fraction=0.9)
        assert set(train["user_id"]) == set(ratings["user_id"])


def test_temporal_split_sizes_per_user(many_ratings):
    fraction = 0.25
    train, test = temporal_split(many_ratings, test_fraction=fraction)

    counts = many_ratings.groupby("user_id").size()
    expected = np.minimum(np.round(fraction * counts), counts - 1)
    held_out = test.groupby("user_id").size().reindex(counts.index, fill_value=0)
    pd.testing.assert_series_equal(held_out, expected.astype(held_out.dtype), check_names=False)


def test_temporal_split_is_deterministic(many_ratings):
    first = temporal_split(many_ratings, test_fraction=0.2)
    second = temporal_split(many_ratings.copy(), test_fraction=0.2)

    pd.testing.assert_frame_equal(first[1], second[1])


@pytest.mark.parametrize("fraction", [0.0, 1.0, 2.0])
def test_temporal_split_invalid_fraction(tiny_ratings, fraction):
    with pytest.raises(ValueError, match="test_fraction must be strictly between 0 and 1"):
        temporal_split(tiny_ratings, test_fraction=fraction)


def test_temporal_split_needs_timestamps(tiny_ratings):
    with pytest.raises(
        ValueError,
        match=r"temporal_split splits a ratings frame, one rating a row with the columns "
        r"user_id, item_id, rating, timestamp .*; this frame lacks timestamp \(its columns are "
        r"user_id, item_id, rating\)",
    ):
        temporal_split(tiny_ratings.drop(columns="timestamp"))


# --- not a ratings frame ---------------------------------------------------------


FILMS = pd.DataFrame(
    {"title": ["Toy Story (1995)", "GoldenEye (1995)"], "release_year": [1995, 1995]},
    index=pd.Index([1, 2], name="item_id"),
)


@pytest.mark.parametrize("split", [random_split, temporal_split])
def test_a_films_table_is_refused_naming_the_missing_columns(split):
    # A fresh user's random_split(ml.items) used to split the films table without complaint.
    with pytest.raises(ValueError) as error:
        split(FILMS)

    message = str(error.value)
    assert message.startswith(f"{split.__name__} splits a ratings frame, one rating a row")
    assert "this frame lacks user_id, item_id, rating" in message
    assert "its columns are title, release_year" in message
    assert "not the films (MovieLens.items)" in message


def test_random_split_needs_ratings_not_only_ids(tiny_ratings):
    with pytest.raises(ValueError, match=r"random_split .* lacks rating \(its columns are"):
        random_split(tiny_ratings.drop(columns="rating"))
    # timestamp is not needed for a random split
    train, test = random_split(tiny_ratings.drop(columns="timestamp"), test_fraction=0.5)
    assert len(train) + len(test) == len(tiny_ratings)


def test_a_non_frame_is_refused():
    with pytest.raises(TypeError, match="random_split needs a pandas DataFrame of ratings"):
        random_split(np.zeros((4, 3)))
