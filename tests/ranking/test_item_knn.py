"""Item-kNN for ranking: cosine neighbours by hand, the k cut, ties, blocks, and the score X S."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recsys_ref.implicit import ItemKNN, cosine_item_neighbours

# 4 users x 4 items. Item columns: a = [1,1,0,0], b = [1,1,1,0], c = [0,0,1,1], d = [0,0,0,0].
# cos(a,b) = 2/sqrt(2*3), cos(a,c) = 0, cos(b,c) = 1/sqrt(3*2); d has no user: similarity 0.
X = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 0]], dtype=np.float32))
AB, BC = 2 / np.sqrt(6), 1 / np.sqrt(6)


def test_cosine_neighbours_by_hand():
    similarity = cosine_item_neighbours(X, n_neighbours=3).toarray()

    expected = np.array([[0, AB, 0, 0], [AB, 0, BC, 0], [0, BC, 0, 0], [0, 0, 0, 0]])
    np.testing.assert_allclose(similarity, expected)


def test_each_item_keeps_its_k_most_similar_others():
    similarity = cosine_item_neighbours(X, n_neighbours=1).toarray()
    # b's best neighbour is a (AB > BC); c keeps b; a keeps b; d has none.
    np.testing.assert_allclose(similarity, [[0, AB, 0, 0], [AB, 0, 0, 0], [0, BC, 0, 0], [0, 0, 0, 0]])


def test_ties_keep_the_lower_item_index():
    # Items 1, 2 and 3 are identical columns: each is equally similar to the other two.
    matrix = sp.csr_matrix(np.array([[1, 1, 1, 1], [0, 1, 1, 1]], dtype=np.float32))
    similarity = cosine_item_neighbours(matrix, n_neighbours=1)
    assert similarity[1].indices.tolist() == [2] and similarity[2].indices.tolist() == [1]
    assert similarity[3].indices.tolist() == [1]


def test_blocks_do_not_change_the_result():
    rng = np.random.default_rng(0)
    matrix = sp.csr_matrix((rng.random((50, 37)) < 0.2).astype(np.float32))
    whole = cosine_item_neighbours(matrix, 5)
    blocked = cosine_item_neighbours(matrix, 5, block_size=4)
    assert (whole != blocked).nnz == 0


def test_scores_sum_the_similarities_from_the_users_items():
    model = ItemKNN(n_neighbours=3, threshold=None).fit_interactions(X)
    scores = model.score_items([1, 3, 4])
    # User 1 has a and b: score(c) = s_bc; user 3 has b and c: score(a) = s_ba; user 4 has c: score(b) = s_cb.
    np.testing.assert_allclose(scores[0], [AB, AB, BC, 0])
    np.testing.assert_allclose(scores[1], [AB, BC, BC, 0])
    np.testing.assert_allclose(scores[2], [0, BC, 0, 0])


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="at least 1"):
        ItemKNN(n_neighbours=0)
    with pytest.raises(ValueError, match="at least 1"):
        cosine_item_neighbours(X, 2, block_size=0)
