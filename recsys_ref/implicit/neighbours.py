"""Item-kNN for ranking: recommend items similar to those the user interacted with.

Deshpande & Karypis (2004), "Item-based top-N recommendation algorithms",
ACM TOIS. The similarity of two items is the cosine of their columns of the
0/1 interaction matrix :math:`X`,

.. math:: s_{ij} = \\frac{x_{\\cdot i}^\\top x_{\\cdot j}}{\\lVert x_{\\cdot i}\\rVert\\, \\lVert x_{\\cdot j}\\rVert}
    = \\frac{|U_i \\cap U_j|}{\\sqrt{|U_i|\\,|U_j|}}

(:math:`U_i` the users who interacted with :math:`i`; 0 when either is
empty). Each item :math:`j` keeps only its :math:`k` most similar other items
:math:`N_k(j)`, and a user's score of a candidate :math:`i` sums the
similarities from the items they interacted with:

.. math:: \\text{score}(u, i) = \\sum_{j \\in I_u,\\; i \\in N_k(j)} s_{ji}

This is the ranking form of the neighbourhood method (no ratings, no
baseline); :mod:`recsys_ref.paradigms` has the rating-prediction form.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recsys_ref.base import Settings
from recsys_ref.implicit.recommender import ImplicitRecommender


def cosine_item_neighbours(
    interactions: sp.csr_matrix, n_neighbours: int, *, block_size: int = 512
) -> sp.csr_matrix:
    """Each item's ``n_neighbours`` most similar other items, by cosine on the interaction columns.

    Args:
        interactions: ``(n_users, n_items)`` binary CSR.
        n_neighbours: :math:`k \\ge 1`; items with fewer items of positive
            similarity keep only those.
        block_size: Items per block of the similarity computation: memory
            is ``O(block_size * n_items)``, never ``n_items ** 2``.

    Returns:
        ``(n_items, n_items)`` float64 CSR ``S``: row :math:`j` holds
        :math:`s_{ji}` for :math:`i \\in N_k(j)` (never :math:`j` itself,
        never a similarity of 0). Ties in similarity are broken by lower item
        index first.

    Raises:
        ValueError: On ``n_neighbours < 1`` or ``block_size < 1``.
    """
    if n_neighbours < 1 or block_size < 1:
        raise ValueError(f"n_neighbours and block_size must be at least 1, got {n_neighbours}, {block_size}.")
    by_item = sp.csr_matrix(interactions.T, dtype=np.float64)
    n_items = by_item.shape[0]
    norms = np.sqrt(np.asarray(by_item.multiply(by_item).sum(axis=1)).reshape(-1))
    inverse = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    keep = min(n_neighbours, max(n_items - 1, 0))
    rows, cols, values = [], [], []
    for start in range(0, n_items, block_size):
        stop = min(start + block_size, n_items)
        overlap = (by_item[start:stop] @ by_item.T).toarray()
        similarity = overlap * inverse[start:stop, None] * inverse[None, :]
        similarity[np.arange(stop - start), np.arange(start, stop)] = 0.0
        best = np.argsort(-similarity, axis=1, kind="stable")[:, :keep]
        best_values = np.take_along_axis(similarity, best, axis=1)
        positive = best_values > 0
        rows.append(np.repeat(np.arange(start, stop), positive.sum(axis=1)))
        cols.append(best[positive])
        values.append(best_values[positive])
    return sp.csr_matrix(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))), shape=(n_items, n_items)
    )


@dataclass(frozen=True)
class ItemKNNSettings(Settings):
    """Keyword arguments of :class:`ItemKNN` (see there); the defaults are plain starting values."""

    n_neighbours: int = 50
    threshold: float | None = None


#: Item-kNN's settings for the book and ``benchmarks/ranking.py`` (the defaults of
#: :class:`ItemKNN`). Chosen on a validation part of MovieLens 100K's random 80/20 training
#: part (``random_split(train, test_fraction=0.2, seed=1)``; positives = validation ratings
#: >= 4), by NDCG@10 over threshold (all ratings, >= 4) and n_neighbours (20, 50, 100, 200,
#: 400): ``python benchmarks/ranking.py --tune`` prints the grid. The test set played no part.
ITEM_KNN_TUNED = ItemKNNSettings(n_neighbours=400, threshold=4.0)


class ItemKNN(ImplicitRecommender):
    """Item-based top-N recommendation with cosine similarity on interactions.

    ``score_items`` returns :math:`X_u S` (see the module docstring): 0 for
    an item no neighbour of the user's items points to. Users without
    interactions get the popularity fallback of ``score_items``.
    Nothing is random, so there is no seed.

    The defaults are :data:`ITEM_KNN_TUNED`.

    Args:
        n_neighbours: :math:`k`, neighbours kept per item.
        threshold: Which ratings are interactions (see
            :class:`~recsys_ref.implicit.recommender.ImplicitRecommender`).

    Attributes:
        similarity: The ``(n_items, n_items)`` CSR ``S`` of
            :func:`cosine_item_neighbours`.
    """

    def __init__(
        self,
        *,
        n_neighbours: int = ITEM_KNN_TUNED.n_neighbours,
        threshold: float | None = ITEM_KNN_TUNED.threshold,
    ) -> None:
        super().__init__(threshold=threshold)
        if n_neighbours < 1:
            raise ValueError(f"n_neighbours must be at least 1, got {n_neighbours}.")
        self.n_neighbours = n_neighbours

    def _fit(self, interactions: sp.csr_matrix) -> None:
        self.interactions = sp.csr_matrix(interactions, dtype=np.float64)
        self.similarity = cosine_item_neighbours(self.interactions, self.n_neighbours)

    def _score_rows(self, rows: np.ndarray) -> np.ndarray:
        return (self.interactions[rows] @ self.similarity).toarray()
