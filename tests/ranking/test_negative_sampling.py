"""Uniform negative sampling: never a seen item, every unseen item reachable, uniform, seeded."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from scipy.stats import chisquare

from recsys_ref.implicit import NegativeSampler, sample_negatives


def random_interactions(seed: int, n_users: int = 40, n_items: int = 30) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    density = torch.rand((n_users, 1), generator=generator)  # from nearly empty to nearly full rows
    return (torch.rand((n_users, n_items), generator=generator) < density).float()


def test_never_returns_an_item_the_user_interacted_with():
    interactions = random_interactions(0)
    interactions[:, 0] = 0.0  # every user has at least one unseen item
    users = torch.arange(40).repeat(250)

    negatives = sample_negatives(users, interactions, torch.Generator().manual_seed(1))

    assert negatives.dtype == torch.int64 and negatives.shape == users.shape
    assert (interactions[users, negatives] == 0).all()


def test_every_unseen_item_is_reachable_and_draws_are_uniform():
    interactions = torch.zeros((2, 12))
    interactions[0, [0, 3, 4, 5, 11]] = 1.0  # user 0 has 7 unseen items: 1, 2, 6, 7, 8, 9, 10
    n_draws = 14_000

    negatives = sample_negatives(
        torch.zeros(n_draws, dtype=torch.int64), interactions, torch.Generator().manual_seed(0)
    )

    counts = np.bincount(negatives.numpy(), minlength=12)
    unseen = [1, 2, 6, 7, 8, 9, 10]
    assert counts[[0, 3, 4, 5, 11]].sum() == 0
    assert (counts[unseen] > 0).all()
    # Chi-square goodness of fit to the uniform distribution on the 7 unseen items (fixed seed).
    assert chisquare(counts[unseen]).pvalue > 0.01


def test_a_user_with_a_single_unseen_item_always_gets_it():
    interactions = torch.ones((1, 9))
    interactions[0, 6] = 0.0
    negatives = sample_negatives(
        torch.zeros(50, dtype=torch.int64), interactions, torch.Generator().manual_seed(0)
    )
    assert (negatives == 6).all()


def test_the_dense_and_sparse_forms_give_the_same_draws():
    interactions = random_interactions(3)
    interactions[:, -1] = 0.0
    users = torch.randint(0, 40, (500,), generator=torch.Generator().manual_seed(4))

    dense = sample_negatives(users, interactions, torch.Generator().manual_seed(5))
    sparse = sample_negatives(users, sp.csr_matrix(interactions.numpy()), torch.Generator().manual_seed(5))
    prepared = NegativeSampler(interactions).sample(users, torch.Generator().manual_seed(5))

    assert torch.equal(dense, sparse) and torch.equal(dense, prepared)


def test_same_seed_same_negatives_and_exactly_one_draw_per_pair():
    interactions = random_interactions(6)
    interactions[:, 0] = 0.0
    users = torch.arange(40)
    generator = torch.Generator().manual_seed(7)

    first = sample_negatives(users, interactions, generator)
    after = torch.rand(1, generator=generator)
    reference = torch.Generator().manual_seed(7)
    torch.rand(40, generator=reference, dtype=torch.float64)

    assert torch.equal(first, sample_negatives(users, interactions, torch.Generator().manual_seed(7)))
    assert torch.equal(after, torch.rand(1, generator=reference))
    assert not torch.equal(first, sample_negatives(users, interactions, torch.Generator().manual_seed(8)))


def test_a_user_who_interacted_with_every_item_is_named():
    interactions = torch.zeros((3, 4))
    interactions[2] = 1.0
    with pytest.raises(ValueError, match=r"user row 2 \(user id 3\) has interacted with all 4 items"):
        sample_negatives(torch.tensor([0, 2, 1]), interactions, torch.Generator().manual_seed(0))


def test_bad_users_and_generators_are_refused():
    interactions = torch.zeros((3, 4))
    with pytest.raises(ValueError, match="user row 3 is outside 0..2"):
        sample_negatives(torch.tensor([3]), interactions, torch.Generator())
    with pytest.raises(ValueError, match="1-D integer"):
        sample_negatives(torch.tensor([0.0]), interactions, torch.Generator())
    with pytest.raises(TypeError, match="torch.Generator"):
        sample_negatives(torch.tensor([0]), interactions, 0)
    assert sample_negatives(torch.tensor([], dtype=torch.int64), interactions, torch.Generator()).numel() == 0
