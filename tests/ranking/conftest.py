"""Planted data for the ranking tests: users and items in taste groups."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest


@dataclass
class Planted:
    train: pd.DataFrame
    test: pd.DataFrame
    n_users: int
    n_items: int
    group_of_user: np.ndarray  # 0-based user row -> group
    group_of_item: np.ndarray  # 0-based item index -> group


def make_planted(
    *, n_groups: int = 3, users_per_group: int = 20, items_per_group: int = 15, seed: int = 0
) -> Planted:
    """Each user rates every item of their group 5 stars, and a few other items 2 stars.

    40 % of the ratings, at random, go to the test part, so a user's relevant test items are
    exactly the items of their group they have not rated in training: a model that learns the
    groups ranks them first (NDCG near 1). Items are about equally popular, so popularity
    cannot tell the groups apart.
    """
    rng = np.random.default_rng(seed)
    n_users, n_items = n_groups * users_per_group, n_groups * items_per_group
    group_of_user = np.repeat(np.arange(n_groups), users_per_group)
    group_of_item = np.repeat(np.arange(n_groups), items_per_group)
    same = group_of_user[:, None] == group_of_item[None, :]
    draw = rng.random((n_users, n_items))
    liked = same
    disliked = ~same & (draw < 0.05)
    users, items = np.nonzero(liked | disliked)
    ratings = pd.DataFrame(
        {
            "user_id": users + 1,
            "item_id": items + 1,
            "rating": np.where(liked[users, items], 5, 2),
            "timestamp": rng.integers(0, 10**6, len(users)),
        }
    )
    is_test = rng.random(len(ratings)) < 0.4
    return Planted(ratings[~is_test], ratings[is_test], n_users, n_items, group_of_user, group_of_item)


@pytest.fixture(scope="session")
def planted() -> Planted:
    return make_planted()
