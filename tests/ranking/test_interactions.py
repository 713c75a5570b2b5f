"""Ratings -> 0/1 interaction matrices (dense tensor and CSR) under a positive threshold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch

from recsys_ref.implicit import as_csr, interaction_matrix, interaction_matrix_csr

# tiny_ratings (tests/conftest.py): user 1 rated items 1 (5), 2 (3), 3 (4); user 2 items 1 (1),
# 4 (2); user 3 items 2 (5), 3 (4), 5 (3); user 4 item 5 (2).


def test_threshold_keeps_ratings_at_or_above_it(tiny_ratings):
    matrix = interaction_matrix(tiny_ratings, 4, 5, threshold=4.0)

    assert matrix.dtype == torch.float32 and matrix.shape == (4, 5)
    expected = torch.zeros((4, 5))
    expected[[0, 0, 2, 2], [0, 2, 1, 2]] = 1.0  # (user 1, items 1 and 3), (user 3, items 2 and 3)
    assert torch.equal(matrix, expected)


def test_no_threshold_counts_every_rating(tiny_ratings):
    matrix = interaction_matrix(tiny_ratings, 4, 6, threshold=None)

    assert matrix.sum() == len(tiny_ratings)
    assert matrix[1, 3] == 1.0  # user 2 rated item 4 only 2 stars: still an interaction
    assert matrix[:, 5].sum() == 0  # item 6 nobody rated: a column of zeros


def test_sparse_and_dense_forms_are_the_same_matrix(tiny_ratings):
    for threshold in (None, 3.0, 4.0, 5.0):
        csr = interaction_matrix_csr(tiny_ratings, 5, 5, threshold=threshold)
        assert isinstance(csr, sp.csr_matrix) and csr.dtype == np.float32
        assert csr.has_sorted_indices
        np.testing.assert_array_equal(
            csr.toarray(), interaction_matrix(tiny_ratings, 5, 5, threshold).numpy()
        )


def test_a_pair_rated_twice_is_one_interaction(tiny_ratings):
    twice = pd.concat([tiny_ratings, tiny_ratings.iloc[[0]]], ignore_index=True)

    assert interaction_matrix(twice, 4, 5, threshold=None)[0, 0] == 1.0
    assert interaction_matrix_csr(twice, 4, 5, threshold=None).data.tolist() == [1.0] * len(tiny_ratings)


def test_an_empty_frame_gives_zeros(tiny_ratings):
    assert interaction_matrix(tiny_ratings.iloc[:0], 2, 3).sum() == 0
    assert interaction_matrix_csr(tiny_ratings.iloc[:0], 2, 3).nnz == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda f: f.assign(item_id=f["item_id"].replace(5, 9)),
            r"row 7 of the ratings has item_id 9, outside 1..5",
        ),
        (lambda f: f.assign(user_id=f["user_id"].replace(1, 0)), r"row 0 of the ratings has user_id 0"),
        (lambda f: f.assign(item_id=f["item_id"].astype(float)), "integer ids"),
        (lambda f: f.drop(columns="rating"), "no column 'rating'"),
        (
            lambda f: f.assign(rating=f["rating"].astype(float).where(f.index != 3)),
            r"row 3 of the ratings has no rating",
        ),
    ],
)
def test_bad_frames_are_refused_naming_the_row(tiny_ratings, change, message):
    with pytest.raises(ValueError, match=message):
        interaction_matrix(change(tiny_ratings), 4, 5, threshold=4.0)
    with pytest.raises(ValueError, match=message):
        interaction_matrix_csr(change(tiny_ratings), 4, 5, threshold=4.0)


def test_sizes_must_be_positive(tiny_ratings):
    with pytest.raises(ValueError, match="n_items must be a positive integer"):
        interaction_matrix(tiny_ratings, 4, 0)


def test_without_threshold_the_rating_column_is_not_needed(tiny_ratings):
    assert interaction_matrix(tiny_ratings.drop(columns="rating"), 4, 5, threshold=None).sum() == 9


def test_as_csr_binarises_any_matrix():
    dense = torch.tensor([[0.0, 2.0, 0.0], [1.0, 0.0, 0.5]])
    csr = as_csr(dense)
    np.testing.assert_array_equal(csr.toarray(), [[0, 1, 0], [1, 0, 1]])
    assert as_csr(sp.coo_matrix(dense.numpy())).nnz == 3
    with pytest.raises(ValueError, match="2-D"):
        as_csr(np.zeros(3))
    with pytest.raises(ValueError, match="negative or NaN"):
        as_csr(np.array([[0.0, -1.0]]))
