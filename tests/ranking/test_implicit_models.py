"""The four implicit-feedback recommenders: one contract, and each learns planted taste groups."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recsys_ref.base import NotFittedError
from recsys_ref.implicit import BPRMF, IALS, ItemKNN, Popularity, interaction_matrix
from recsys_ref.ranking import evaluate_ranking

FAST = {
    "popularity": lambda **kw: Popularity(**kw),
    "item-kNN": lambda **kw: ItemKNN(n_neighbours=10, **kw),
    "BPR-MF": lambda **kw: BPRMF(n_factors=8, n_epochs=40, batch_size=128, lr=0.02, reg=1e-3, **kw),
    "iALS": lambda **kw: IALS(n_factors=8, alpha=3.0, reg=1.0, n_iterations=8, **kw),
}


def fitted(name, planted, **kw):
    return FAST[name](threshold=4.0, **kw).fit(
        planted.train, n_users=planted.n_users, n_items=planted.n_items
    )


@pytest.mark.parametrize("name", ["item-kNN", "BPR-MF", "iALS"])
def test_personal_models_learn_the_planted_groups_and_beat_popularity(planted, name):
    popularity = evaluate_ranking(fitted("popularity", planted), planted.train, planted.test, k=5).summary()
    model = fitted(name, planted)
    report = evaluate_ranking(model, planted.train, planted.test, k=5)
    summary = report.summary()

    assert summary["ndcg"] > 0.9, summary
    assert summary["ndcg"] > popularity["ndcg"] + 0.3, (summary, popularity)
    # The first recommendation comes from the user's own group (later places may not: a user
    # may have fewer than 5 unrated items of their group).
    users = report.per_user.index.to_numpy() - 1
    own = planted.group_of_item[report.top_k[:, 0]] == planted.group_of_user[users]
    assert own.mean() > 0.95


@pytest.mark.parametrize("name", list(FAST))
def test_score_items_contract(planted, name):
    model = fitted(name, planted)
    scores = model.score_items(np.array([1, 5, 60]))

    assert scores.dtype == np.float64 and scores.shape == (3, planted.n_items)
    assert np.isfinite(scores).all()
    # Pandas Series, lists and whole floats are ids too; the result does not depend on the batch.
    np.testing.assert_allclose(model.score_items([5.0]), scores[[1]], rtol=1e-10)
    # n_items: fewer columns keep the first ones, more are -inf (items the model never saw).
    assert model.score_items([1], n_items=4).shape == (1, 4)
    wider = model.score_items([1], n_items=planted.n_items + 2)
    assert np.isneginf(wider[0, -2:]).all()
    with pytest.raises(ValueError, match="whole-number ids"):
        model.score_items([1.5])


@pytest.mark.parametrize("name", list(FAST))
def test_unknown_users_get_the_popularity_fallback(planted, name):
    model = fitted(name, planted)
    popularity = (
        interaction_matrix(planted.train, planted.n_users, planted.n_items, 4.0).sum(dim=0).double().numpy()
    )

    # Beyond the fitted users, and a user whose ratings are all below the threshold; an id below 1 is refused.
    with pytest.raises(ValueError, match="1-based"):
        model.score_items([0])
    ids = [planted.n_users + 1, planted.n_users + 7]
    scores = model.score_items(ids)
    np.testing.assert_array_equal(scores, np.tile(popularity, (2, 1)))
    train = planted.train.copy()
    train.loc[train["user_id"] == 1, "rating"] = 2
    low = FAST[name](threshold=4.0).fit(train, n_users=planted.n_users, n_items=planted.n_items)
    assert not low.known_users[0]
    np.testing.assert_array_equal(low.score_items([1])[0], low.item_counts)


@pytest.mark.parametrize("name", list(FAST))
def test_same_seed_same_scores(planted, name):
    first = fitted(name, planted).score_items(np.arange(1, 11))
    second = fitted(name, planted).score_items(np.arange(1, 11))
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("name", list(FAST))
def test_errors_before_and_during_fit(planted, name):
    with pytest.raises(NotFittedError, match="before fit"):
        FAST[name]().score_items([1])
    with pytest.raises(ValueError, match="at least one rating"):
        FAST[name]().fit(planted.train.iloc[:0])
    with pytest.raises(ValueError, match="at least one interaction"):
        FAST[name]().fit_interactions(torch.zeros((3, 4)))
    with pytest.raises(ValueError, match="no column 'item_id'"):
        FAST[name]().fit(planted.train.drop(columns="item_id"))
    with pytest.raises(ValueError, match="at least one interaction"):
        FAST[name](threshold=6.0).fit(planted.train)
    with pytest.raises(ValueError, match="outside 1..10"):
        FAST[name]().fit(planted.train, n_users=planted.n_users, n_items=10)


def test_sizes_default_to_the_largest_ids(planted):
    model = Popularity().fit(planted.train)
    assert model.n_users == planted.train["user_id"].max()
    assert model.n_items == planted.train["item_id"].max()


def test_fit_interactions_takes_a_dense_tensor(planted):
    matrix = interaction_matrix(planted.train, planted.n_users, planted.n_items, 4.0)
    from_matrix = IALS(n_factors=4, n_iterations=3).fit_interactions(matrix)
    from_frame = IALS(n_factors=4, n_iterations=3, threshold=4.0).fit(
        planted.train, n_users=planted.n_users, n_items=planted.n_items
    )
    np.testing.assert_allclose(from_matrix.score_items([1, 2]), from_frame.score_items([1, 2]))
