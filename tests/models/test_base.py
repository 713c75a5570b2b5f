"""The RatingPredictor contract, checked once for every model that follows it.

Every predictor is fitted on the same small synthetic ratings (60 users x 40
items from a planted rank-3 matrix, with made-up demographics and genres), so
the whole module runs in a few seconds.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from recsys_ref.base import (
    NotFittedError,
    RatingPredictor,
    Settings,
    as_id_array,
    predict_frame,
    rating_arrays,
)
from recsys_ref.baselines import BiasBaseline, GlobalMean
from recsys_ref.data import GENRES, make_synthetic_ratings, random_split
from recsys_ref.mf import BiasedMF, DenseMF
from recsys_ref.nn_training import RecommenderNetPredictor
from recsys_ref.paradigms import ContentKNN, DemographicMeans, ItemKNN, RecencyPopularity

N_USERS, N_ITEMS = 60, 40


def make_items(n_items: int = N_ITEMS, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    items = pd.DataFrame(
        rng.integers(0, 2, (n_items, len(GENRES))),
        columns=list(GENRES),
        index=pd.RangeIndex(1, n_items + 1, name="item_id"),
    )
    items["release_year"] = rng.integers(1950, 1999, n_items)
    return items


def make_users(n_users: int = N_USERS, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 60, n_users),
            "gender": rng.choice(["F", "M"], n_users),
            "occupation": rng.choice(["student", "engineer", "artist"], n_users),
        },
        index=pd.RangeIndex(1, n_users + 1, name="user_id"),
    )


#: name -> (factory, whether score_items equals the unclipped predictions)
MODELS: dict[str, tuple[Callable[[], RatingPredictor], bool]] = {
    "GlobalMean": (GlobalMean, True),
    "BiasBaseline": (BiasBaseline, True),
    "BiasedMF": (lambda: BiasedMF(n_factors=3, epochs=3, batch_size=128), True),
    "BiasedMF sparse": (
        lambda: BiasedMF(n_factors=3, epochs=3, batch_size=128, optimizer="sparse_adam"),
        True,
    ),
    "DenseMF": (lambda: DenseMF(n_factors=3, epochs=20), True),
    "RecommenderNetPredictor": (
        lambda: RecommenderNetPredictor({"n_factors": 4, "hidden": (8,)}, training={"epochs": 2}),
        True,
    ),
    "ItemKNN": (lambda: ItemKNN(5), True),
    "ContentKNN": (lambda: ContentKNN(make_items(), k=5), True),
    "DemographicMeans": (lambda: DemographicMeans(make_users(), min_peers=5), True),
    "RecencyPopularity rating": (lambda: RecencyPopularity(rank_by="rating"), True),
    "RecencyPopularity count": (lambda: RecencyPopularity(), False),
}


@pytest.fixture(scope="module")
def split() -> tuple[pd.DataFrame, pd.DataFrame]:
    ratings, _ = make_synthetic_ratings(N_USERS, N_ITEMS, rank=3, density=0.4, noise=0.3, seed=0)
    return random_split(ratings, test_fraction=0.2, seed=0)


@pytest.fixture(scope="module", params=list(MODELS))
def fitted(request, split) -> tuple[str, RatingPredictor]:
    factory, _ = MODELS[request.param]
    return request.param, factory().fit(split[0])


def test_fit_returns_self_and_sets_the_shared_attributes(split):
    for name, (factory, _) in MODELS.items():
        model = factory()
        assert model.fit(split[0]) is model, name
        assert (
            model.n_users == split[0]["user_id"].max()
            and model.n_items == split[0]["item_id"].max()
        )
        assert model.known_users.sum() == split[0]["user_id"].nunique()
        assert model.global_mean == pytest.approx(split[0]["rating"].mean(), rel=1e-6)
        assert model.rating_scale == (split[0]["rating"].min(), split[0]["rating"].max())


def test_predictions_are_one_finite_rating_per_pair_inside_the_range(fitted, split):
    name, model = fitted
    test = split[1]

    predicted = model.predict(test["user_id"], test["item_id"])

    assert predicted.shape == (len(test),) and predicted.dtype == np.float64, name
    assert np.isfinite(predicted).all()
    assert predicted.min() >= 1.0 and predicted.max() <= 5.0
    np.testing.assert_array_equal(predict_frame(model, test), predicted)


def test_unknown_ids_get_a_finite_fallback_not_an_error(fitted):
    name, model = fitted
    users = [10**6, 1, 10**6]
    items = [1, 10**6, 10**6]

    predicted = model.predict(users, items)

    assert np.isfinite(predicted).all(), name
    assert predicted.min() >= 1.0 and predicted.max() <= 5.0


@pytest.mark.parametrize(
    ("users", "items", "message"),
    [
        ([0], [0], r"user_ids: entry 0 is 0, but ids are 1-based"),
        ([-5], [1], r"user_ids: entry 0 is -5, but ids are 1-based"),
        ([1, 2, 3], [4, 0, 5], r"item_ids: entry 1 is 0, but ids are 1-based"),
        (pd.Series([1.0, -1.0]), [1, 1], r"user_ids: entry 1 is -1, but ids are 1-based"),
    ],
)
def test_ids_below_1_are_refused_not_given_the_fallback(fitted, users, items, message):
    # A 0 or a negative id is a 0-based index passed by mistake, never an unknown id.
    _, model = fitted
    with pytest.raises(ValueError, match=message):
        model.predict(users, items)
    with pytest.raises(ValueError, match=r"user_ids: entry 1 is 0, but ids are 1-based"):
        model.score_items([1, 0])


def test_predict_given_a_frame_says_what_to_call(fitted, split):
    name, model = fitted
    test = split[1]
    for call in (lambda: model.predict(test), lambda: model.predict(test, test)):
        with pytest.raises(TypeError) as error:
            call()
        message = str(error.value)
        assert "predict(user_ids, item_ids)" in message, name
        assert "predict_frame(model, frame)" in message
        assert "model.predict(frame['user_id'], frame['item_id'])" in message
    with pytest.raises(TypeError, match=r"needs item_ids too: predict\(user_ids, item_ids\)"):
        model.predict(test["user_id"])
    with pytest.raises(TypeError, match=r"user_ids must be one array .* got a DataFrame"):
        model.score_items(test)


def test_score_items_has_one_column_per_item_id(fitted):
    name, model = fitted
    scores = model.score_items([1, 2, 3, 10**6])
    wider = model.score_items([1, 2, 3, 10**6], n_items=N_ITEMS + 5)

    assert scores.shape == (4, model.n_items) and wider.shape == (4, N_ITEMS + 5), name
    assert np.isfinite(wider).all()
    np.testing.assert_allclose(wider[:, : model.n_items], scores)


@pytest.mark.parametrize(
    "name", [name for name, (_, scores_are_ratings) in MODELS.items() if scores_are_ratings]
)
def test_score_items_are_the_unclipped_predictions(name, split):
    """(RecencyPopularity ranks by popularity by default: tests/models/test_paradigm_predictors.py.)"""
    model = MODELS[name][0]().fit(split[0])
    users = np.array([1, 5, 10**6])
    n_items = model.n_items + 2
    saved = model.rating_range
    model.rating_range = (-np.inf, np.inf)
    try:
        expected = model.predict(
            np.repeat(users, n_items), np.tile(np.arange(1, n_items + 1), len(users))
        )
    finally:
        model.rating_range = saved

    np.testing.assert_allclose(
        model.score_items(users, n_items=n_items),
        expected.reshape(3, n_items),
        rtol=1e-6,
        atol=1e-9,
    )


@pytest.mark.parametrize("name", list(MODELS))
def test_predict_and_score_before_fit_raise(name):
    model = MODELS[name][0]()
    with pytest.raises(NotFittedError, match=f"{type(model).__name__}.predict called before fit"):
        model.predict([1], [1])
    with pytest.raises(NotFittedError, match="score_items called before fit"):
        model.score_items([1])
    assert issubclass(NotFittedError, RuntimeError)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"user_id": [1], "rating": [3]}), "lack the column.*'item_id'"),
        (pd.DataFrame({"user_id": [], "item_id": [], "rating": []}), "at least one rating"),
        (
            pd.DataFrame({"user_id": [1, 0], "item_id": [1, 2], "rating": [3, 4]}),
            r"ids start at 1 .*row 1 .* user_id 0",
        ),
        (
            pd.DataFrame({"user_id": [1, 2], "item_id": [1.5, 2], "rating": [3, 4]}),
            "item_id must hold whole numbers; row 0",
        ),
        (
            pd.DataFrame({"user_id": [1, 2], "item_id": [1, 2], "rating": [3, np.nan]}),
            "finite number; row 1",
        ),
        (
            pd.DataFrame({"user_id": [1, 2], "item_id": [1, 2], "rating": ["3", "four"]}),
            "finite number; row 1 .* 'four'",
        ),
    ],
)
def test_bad_frames_are_refused_naming_the_row(frame, message):
    for model in (GlobalMean(), BiasBaseline(), BiasedMF(epochs=1), ItemKNN()):
        with pytest.raises(ValueError, match=message):
            model.fit(frame)


def test_a_non_frame_is_refused():
    with pytest.raises(TypeError, match="needs a pandas DataFrame"):
        GlobalMean().fit([(1, 1, 3)])


def test_ids_are_normalised_once():
    np.testing.assert_array_equal(as_id_array(pd.Series([1.0, 2.0]), "ids"), [1, 2])
    np.testing.assert_array_equal(as_id_array(7, "ids"), [7])
    assert as_id_array(np.array([3], dtype=np.int32), "ids").dtype == np.int64
    for bad in ([1.5], [np.nan], ["a"], [True]):
        with pytest.raises(ValueError, match="whole-number ids"):
            as_id_array(bad, "ids")
    for bad, position, value in (([0], 0, 0), ([3, 2, -1], 2, -1), (np.array([4.0, 0.0]), 1, 0)):
        with pytest.raises(ValueError, match=f"ids: entry {position} is {value}, but ids are 1-based"):
            as_id_array(bad, "ids")
    users, items, values = rating_arrays(
        pd.DataFrame({"user_id": [2], "item_id": [3.0], "rating": [4]}), who="test"
    )
    assert users.tolist() == [2] and items.tolist() == [3] and values.dtype == np.float64


def test_predict_rejects_unequal_lengths_and_bad_n_items(split):
    model = GlobalMean().fit(split[0])
    with pytest.raises(ValueError, match="2 user ids but 1 item ids"):
        model.predict([1, 2], [1])
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="n_items must be a whole number"):
            model.score_items([1], n_items=bad)


def test_rating_range_none_clips_to_the_training_scale(split):
    train, _ = split
    model = BiasBaseline(rating_range=None).fit(train)
    every_pair = model.predict(np.repeat(np.arange(1, 61), 40), np.tile(np.arange(1, 41), 60))

    assert every_pair.min() >= train["rating"].min() and every_pair.max() <= train["rating"].max()
    with pytest.raises(ValueError, match="low <= high"):
        BiasBaseline(rating_range=(5.0, 1.0)).fit(train)


def test_refitting_replaces_what_the_model_knew(split):
    train, _ = split
    model = BiasBaseline().fit(train)
    small = pd.DataFrame({"user_id": [1, 2], "item_id": [1, 2], "rating": [1, 5]})

    model.fit(small)

    assert model.n_users == 2 and model.n_items == 2 and model.bu.shape == (2,)
    assert model.global_mean == 3.0


def test_repr_shows_the_settings_and_abbreviates_tables():
    assert repr(BiasedMF(n_factors=7)).startswith("BiasedMF(n_factors=7, epochs=30,")
    assert "items=<DataFrame 40 x 20>" in repr(ContentKNN(make_items()))


def test_settings_are_read_only_mappings():
    from dataclasses import dataclass, replace

    @dataclass(frozen=True)
    class Two(Settings):
        a: int = 1
        b: str = "x"

    two = Two()
    assert dict(two) == {"a": 1, "b": "x"} and len(two) == 2 and list(two) == ["a", "b"]
    assert {**two, "b": "y"} == {"a": 1, "b": "y"}
    assert replace(two, a=5)["a"] == 5
    with pytest.raises(KeyError):
        two["c"]
