"""Catalogue coverage, novelty and average recommended popularity, by hand."""

from __future__ import annotations

from math import log2

import numpy as np
import pytest
import torch

from recsys_ref.metrics import average_recommended_popularity_per_user, catalogue_coverage, novelty_per_user

# 6 items; training popularity c = [10, 5, 0, 1, 10, 2] among n = 10 users.
# Lists: user 0 -> items 0, 1; user 1 -> items 1, 2, -1 (padding); user 2 -> nothing.
COUNTS = torch.tensor([10.0, 5.0, 0.0, 1.0, 10.0, 2.0])
TOP = torch.tensor([[0, 1, -1], [1, 2, -1], [-1, -1, -1]])


def test_catalogue_coverage_by_hand():
    assert catalogue_coverage(TOP, 6) == pytest.approx(3 / 6)  # items 0, 1, 2
    assert catalogue_coverage(torch.full((2, 2), -1), 6) == 0.0
    assert catalogue_coverage(np.array([[0, 1], [2, 3], [4, 5]]), 6) == 1.0


def test_novelty_by_hand():
    values = novelty_per_user(TOP, COUNTS, 10)

    # user 0: -log2(10/10) = 0 and -log2(5/10) = 1 -> 0.5
    # user 1: item 1 gives 1; item 2 was never seen, counts as 1 user: -log2(1/10) = log2(10)
    assert values[0].item() == pytest.approx(0.5)
    assert values[1].item() == pytest.approx((1 + log2(10)) / 2)
    assert torch.isnan(values[2])


def test_average_recommended_popularity_by_hand():
    values = average_recommended_popularity_per_user(TOP, COUNTS)

    assert values[:2].tolist() == pytest.approx([7.5, 2.5])
    assert torch.isnan(values[2])


def test_a_list_of_the_most_popular_items_is_least_novel():
    popular = torch.tensor([[0, 4]])
    rare = torch.tensor([[2, 3]])
    assert novelty_per_user(popular, COUNTS, 10).item() == 0.0
    assert novelty_per_user(rare, COUNTS, 10).item() > novelty_per_user(popular, COUNTS, 10).item()
    assert (
        average_recommended_popularity_per_user(rare, COUNTS).item()
        < average_recommended_popularity_per_user(popular, COUNTS).item()
    )


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="n_users"):
        novelty_per_user(TOP, COUNTS, 5)  # an item has 10 users out of 5
    with pytest.raises(ValueError, match="counts >= 0"):
        average_recommended_popularity_per_user(TOP, -COUNTS)
    with pytest.raises(ValueError, match="is not an item index"):
        catalogue_coverage(TOP, 2)
    with pytest.raises(ValueError, match="n_items must be at least 1"):
        catalogue_coverage(TOP, 0)
    with pytest.raises(ValueError, match="repeats item index 1"):
        novelty_per_user(torch.tensor([[1, 1]]), COUNTS, 10)
