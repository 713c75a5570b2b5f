"""The paradigm predictors (ItemKNN, ContentKNN, DemographicMeans, RecencyPopularity) on planted data.

Each test plants the structure a paradigm should find (twin items, genre
tastes, a gender divide, a recent hit) and checks that the predictor finds it
where the bias baseline cannot; others check that each predictor computes
what the chapter's list functions compute, and that every hyperparameter
reaches the result.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsys_ref.baselines import BiasBaseline
from recsys_ref.data import GENRES, make_synthetic_ratings, random_split
from recsys_ref.metrics import rmse
from recsys_ref.paradigms import (
    ContentKNN,
    DemographicMeans,
    ItemKNN,
    RecencyPopularity,
    content_similar_items,
    damped_item_means,
    demographic_peers,
    item_item_neighbours,
    recommend_from_peers,
)
from recsys_ref.paradigms.neighbours import neighbourhood_deviation

DAY = 86_400


def held_out_rmse(model, train, test) -> float:
    return rmse(test["rating"], model.fit(train).predict(test["user_id"], test["item_id"]))


# --- item-kNN -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def twins() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Items come in twin pairs (2p - 1, 2p) that every user rates alike; one twin of some pairs is held out.

    80 users, 30 pairs; each user rates half the pairs, both twins with the same
    random rating. For a fifth of those, the even twin goes to the test part.
    """
    rng = np.random.default_rng(0)
    train, test = [], []
    for user in range(1, 81):
        for pair in np.flatnonzero(rng.random(30) < 0.5):
            rating = int(rng.integers(1, 6))
            odd, even = 2 * pair + 1, 2 * pair + 2
            train.append((user, odd, rating))
            (test if rng.random() < 0.2 else train).append((user, even, rating))
    columns = ["user_id", "item_id", "rating"]
    return pd.DataFrame(train, columns=columns), pd.DataFrame(test, columns=columns)


def test_item_knn_recovers_a_planted_neighbourhood(twins):
    train, test = twins
    model = ItemKNN(k=1, shrinkage=10.0).fit(train)

    # Each even item's most similar item is its twin ...
    best = model.similarity_matrix[1::2].argmax(axis=1)
    np.testing.assert_array_equal(best, np.arange(0, 60, 2))
    # ... so a held-out rating is read off the twin, where the baseline can only guess.
    assert held_out_rmse(model, train, test) < 0.25
    assert held_out_rmse(BiasBaseline(), train, test) > 1.0


def test_item_knn_similarity_is_the_chapters_shrunk_adjusted_cosine(twins):
    train, _ = twins
    model = ItemKNN(shrinkage=25.0).fit(train)

    listed = item_item_neighbours(train, 7, k=59, min_common=1, shrinkage=25.0)

    np.testing.assert_allclose(
        model.similarity_matrix[6, listed["item_id"] - 1], listed["score"], rtol=1e-5, atol=1e-7
    )


def test_neighbourhood_keeps_the_k_best_positive_neighbours():
    similarity = np.array([[0.9, -0.8, 0.5, 0.1], [-0.5, -0.2, 0.0, 0.0], [0.3, 0.0, 0.0, 0.0]])
    deviations = np.array([1.0, 4.0, -1.0, 10.0])

    result = neighbourhood_deviation(similarity, deviations, k=2, min_k=1)

    # Row 0: the two best are 0.9 and 0.5; the negative neighbour never counts.
    np.testing.assert_allclose(result, [(0.9 * 1 - 0.5 * 1) / 1.4, 0.0, 1.0])
    np.testing.assert_allclose(
        neighbourhood_deviation(similarity, deviations, k=2, min_k=2), [(0.9 - 0.5) / 1.4, 0, 0]
    )


def test_item_knn_without_neighbours_predicts_the_baseline(twins):
    train, _ = twins
    model = ItemKNN().fit(train)
    baseline = BiasBaseline().fit(train)

    # An unknown user and an unknown item; then every pair, when no item has min_k neighbours.
    pairs = ([999, 1], [1, 999])
    np.testing.assert_allclose(model.predict(*pairs), baseline.predict(*pairs))
    strict = ItemKNN(min_k=10**6).fit(train)
    np.testing.assert_allclose(
        strict.predict(train["user_id"], train["item_id"]),
        baseline.predict(train["user_id"], train["item_id"]),
    )


def test_item_knn_refuses_a_pair_rated_twice():
    twice = pd.DataFrame({"user_id": [1, 2, 1], "item_id": [1, 1, 1], "rating": [4, 3, 5]})
    with pytest.raises(ValueError, match="user 1 rated item 1 more than once"):
        ItemKNN().fit(twice)


@pytest.fixture(scope="module")
def planted_split():
    ratings, _ = make_synthetic_ratings(60, 40, rank=3, density=0.5, noise=0.3, seed=1)
    return random_split(ratings, test_fraction=0.2, seed=0)


@pytest.mark.parametrize(
    "change",
    [
        dict(k=3),
        dict(shrinkage=0.0),
        dict(similarity="pearson_baseline"),
        dict(similarity="pearson"),
        dict(min_k=5),
        dict(item_reg=100.0),
    ],
    ids=lambda change: "=".join(map(str, next(iter(change.items())))),
)
def test_item_knn_every_hyperparameter_changes_the_rmse(planted_split, change):
    train, test = planted_split
    assert held_out_rmse(ItemKNN(**change), train, test) != pytest.approx(
        held_out_rmse(ItemKNN(), train, test), abs=1e-4
    )


def test_item_knn_beats_the_baseline_on_a_low_rank_matrix(planted_split):
    train, test = planted_split
    assert held_out_rmse(ItemKNN(), train, test) < held_out_rmse(BiasBaseline(), train, test) - 0.05


# --- content-based ------------------------------------------------------------------------------


def catalogue(n_items: int = 60) -> pd.DataFrame:
    """Items 1..60: a third Westerns, a third Comedies, a third Horror; years 1950..1998."""
    genres = np.array(["Western", "Comedy", "Horror"])[np.arange(n_items) % 3]
    items = pd.DataFrame(
        0, index=pd.RangeIndex(1, n_items + 1, name="item_id"), columns=list(GENRES)
    )
    for genre in ("Western", "Comedy", "Horror"):
        items.loc[genres == genre, genre] = 1
    items["release_year"] = 1950 + np.arange(n_items) % 49
    return items


@pytest.fixture(scope="module")
def genre_tastes() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Each of 50 users loves one genre (5 stars) and dislikes the others (2); items 51..60 are never rated."""
    items = catalogue()
    rng = np.random.default_rng(0)
    rows = []
    for user in range(1, 51):
        loved = ("Western", "Comedy", "Horror")[user % 3]
        for item in rng.choice(np.arange(1, 51), 20, replace=False):
            rows.append((user, int(item), 5 if items.loc[item, loved] else 2))
    ratings = pd.DataFrame(rows, columns=["user_id", "item_id", "rating"])
    train, test = random_split(ratings, test_fraction=0.2, seed=0)
    return items, train, test


def test_content_knn_learns_each_users_genre_taste(genre_tastes):
    """With the year weight off, genres alone decide, and they decide everything here."""
    items, train, test = genre_tastes

    assert held_out_rmse(ContentKNN(items, year_weight=0.0), train, test) < 0.2
    assert held_out_rmse(ContentKNN(items), train, test) < 0.8  # years blur the planted genres
    assert held_out_rmse(BiasBaseline(), train, test) > 1.0


def test_content_knn_predicts_new_items_from_their_content(genre_tastes):
    """Items 51..60 have no rating at all: the baseline knows nothing, the content does."""
    items, train, _ = genre_tastes
    model = ContentKNN(items, year_weight=0.0).fit(train)
    new_items = np.arange(51, 61)
    user = 3  # loves Westerns (3 % 3 == 0)

    predicted = model.predict(np.full(10, user), new_items)

    westerns = items.loc[new_items, "Western"].to_numpy() == 1
    assert predicted[westerns].min() > 4.5 and predicted[~westerns].max() < 2.5


def test_content_knn_scores_pairs_like_content_similar_items(genre_tastes):
    items, train, _ = genre_tastes
    model = ContentKNN(items, year_weight=0.4, year_scale=5.0).fit(train)

    listed = content_similar_items(items, 8, k=59, year_weight=0.4, year_scale=5.0)

    np.testing.assert_allclose(
        model.similarity_matrix[7, listed["item_id"] - 1], listed["score"], rtol=1e-6
    )


def test_content_knn_needs_the_content_of_every_rated_item(genre_tastes):
    items, train, _ = genre_tastes
    with pytest.raises(ValueError, match="item_id 3 has ratings but is not in items"):
        ContentKNN(items.drop(index=3)).fit(train)


@pytest.mark.parametrize(
    "change",
    [dict(k=2), dict(year_weight=0.9), dict(year_scale=1.0), dict(user_reg=0.0)],
    ids=lambda c: next(iter(c)),
)
def test_content_knn_every_hyperparameter_changes_the_rmse(planted_split, change):
    train, test = planted_split
    items = catalogue(40)
    assert held_out_rmse(ContentKNN(items, **change), train, test) != pytest.approx(
        held_out_rmse(ContentKNN(items), train, test), abs=1e-4
    )


# --- demographic --------------------------------------------------------------------------------


def people(n_users: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "age": rng.integers(20, 40, n_users),
            "gender": np.where(np.arange(n_users) % 2 == 0, "F", "M"),
            "occupation": rng.choice(["student", "writer"], n_users),
        },
        index=pd.RangeIndex(1, n_users + 1, name="user_id"),
    )


@pytest.fixture(scope="module")
def gender_divide() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Users 1..50 rate items 1..10; women (odd ids) rate items 1..5 with 5 and 6..10 with 1, men the reverse.

    Users 51..60 are in the users table but have no rating: new users.
    """
    users = people()
    rows = []
    for user in range(1, 51):
        woman = users.loc[user, "gender"] == "F"
        for item in range(1, 11):
            rows.append((user, item, 5 if (item <= 5) == woman else 1))
    return users, pd.DataFrame(rows, columns=["user_id", "item_id", "rating"])


def test_demographic_means_recommend_to_new_users_by_their_peers(gender_divide):
    users, ratings = gender_divide
    model = DemographicMeans(users, min_peers=5, damping=1.0).fit(ratings)

    new_woman, new_man = 51, 52  # 51 is at position 50: even, so "F"
    predicted = model.predict([new_woman] * 10 + [new_man] * 10, list(range(1, 11)) * 2)

    assert predicted[:5].min() > 4.0 and predicted[5:10].max() < 2.0
    assert predicted[10:15].max() < 2.0 and predicted[15:].min() > 4.0
    # Someone missing from the users table gets the item's prior: here 3 for every item.
    np.testing.assert_allclose(model.predict([999] * 10, range(1, 11)), 3.0)


def test_demographic_means_with_a_global_prior_is_recommend_from_peers(gender_divide):
    users, ratings = gender_divide
    model = DemographicMeans(users, min_peers=5, damping=4.0, prior="global").fit(ratings)
    user = 7
    peers = demographic_peers(
        users,
        age=int(users.loc[user, "age"]),
        gender=users.loc[user, "gender"],
        occupation=users.loc[user, "occupation"],
        min_peers=5,
    )

    listed = recommend_from_peers(ratings, peers.user_ids, k=10, damping=4.0)

    np.testing.assert_allclose(model.predict(np.full(10, user), listed["item_id"]), listed["score"])


def test_demographic_means_needs_every_rater_in_the_users_table(gender_divide):
    users, ratings = gender_divide
    with pytest.raises(ValueError, match="user_id 4 has ratings but is not in users"):
        DemographicMeans(users.drop(index=4)).fit(ratings)


@pytest.mark.parametrize(
    "change",
    [dict(damping=0.0), dict(prior="global"), dict(age_window=1), dict(min_peers=2)],
    ids=lambda c: next(iter(c)),
)
def test_demographic_means_every_hyperparameter_changes_the_rmse(planted_split, change):
    train, test = planted_split
    users = people()
    assert held_out_rmse(DemographicMeans(users, **change), train, test) != pytest.approx(
        held_out_rmse(DemographicMeans(users), train, test), abs=1e-4
    )


# --- recency popularity -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def timed() -> pd.DataFrame:
    """Item 1: 30 ratings of 4 a year ago. Item 2: 10 ratings of 5 last week. Item 3: one old 1."""
    now = 1_000 * DAY
    rows = [(u, 1, 4, now - 365 * DAY) for u in range(1, 31)]
    rows += [(u, 2, 5, now - 7 * DAY) for u in range(31, 41)]
    rows += [(41, 3, 1, now - 400 * DAY)]
    return pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"])


def test_recency_popularity_ranks_what_is_popular_now(timed):
    recent = RecencyPopularity(half_life_days=30.0, at=1_000 * DAY).fit(timed)
    all_time = RecencyPopularity(half_life_days=None).fit(timed)

    assert np.argmax(recent.score_items([1])[0]) == 1  # item 2, rated last week
    np.testing.assert_allclose(all_time.score_items([1, 2])[0], [30, 10, 1])  # plain counts
    np.testing.assert_allclose(
        recent.score_items([1])[0],
        [30 * 0.5 ** (365 / 30), 10 * 0.5 ** (7 / 30), 0.5 ** (400 / 30)],
    )
    default = RecencyPopularity(half_life_days=30.0).fit(
        timed
    )  # "now" is just after the last rating
    assert default.now == 1_000 * DAY - 7 * DAY + 1


def test_recency_popularity_predicts_the_weighted_damped_mean(timed):
    model = RecencyPopularity(half_life_days=None, damping=10.0).fit(timed)

    expected = damped_item_means(timed, damping=10.0)["score"]
    np.testing.assert_allclose(model.predict([1, 1, 1], [1, 2, 3]), expected.loc[[1, 2, 3]])
    np.testing.assert_allclose(model.predict([5], [99]), timed["rating"].mean())  # unknown item


def test_recency_popularity_ignores_ratings_after_the_moment(timed):
    model = RecencyPopularity(half_life_days=None, at=1_000 * DAY - 30 * DAY).fit(timed)

    np.testing.assert_allclose(model.score_items([1])[0], [30, 0, 1])
    assert model.predict([1], [2])[0] == pytest.approx(model.global_mean)


def test_recency_popularity_needs_timestamps_and_valid_settings(timed):
    with pytest.raises(ValueError, match="lack the column 'timestamp'"):
        RecencyPopularity().fit(timed.drop(columns="timestamp"))
    with pytest.raises(ValueError, match="half_life_days"):
        RecencyPopularity(half_life_days=0.0)
    with pytest.raises(ValueError, match="rank_by"):
        RecencyPopularity(rank_by="votes")


@pytest.mark.parametrize(
    "change",
    [dict(half_life_days=None), dict(damping=0.0), dict(half_life_days=2.0)],
    ids=lambda c: next(iter(c)),
)
def test_recency_popularity_every_hyperparameter_changes_the_rmse(planted_split, change):
    train, test = planted_split
    assert held_out_rmse(RecencyPopularity(**change), train, test) != pytest.approx(
        held_out_rmse(RecencyPopularity(), train, test), abs=1e-4
    )
