"""Popularity: recommend what most users interacted with, the same list for everybody.

The baseline every ranking model must beat. Because users rate popular items
(the data are missing not at random), the held-out positives are mostly
popular items too, and this non-personalised list is hard to beat; in the
book's evaluation chapter it beats every rating predictor on top-K metrics.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recsys_ref.implicit.recommender import ImplicitRecommender


class Popularity(ImplicitRecommender):
    """Score of item :math:`i` for every user: :math:`c_i = \\sum_u X_{ui}`, its number of interacting users.

    There is nothing to tune, so there is no ``*_TUNED`` record. Ties between
    equally popular items are left to the ranking's tie rule
    (:func:`recsys_ref.ranking.top_k`). Nothing is random, so there is no seed.

    Args:
        threshold: Which ratings count (see
            :class:`~recsys_ref.implicit.recommender.ImplicitRecommender`). The
            default ``None`` counts every rating: the popularity of the book's
            evaluation chapter. ``4.0`` counts the users who liked the item,
            the same interactions the other models here learn from.

    Attributes:
        item_counts: ``(n_items,)`` float64, :math:`c_i` (after fit).
    """

    def _fit(self, interactions: sp.csr_matrix) -> None:
        """Nothing beyond :math:`c_i`, which the base class counts for every model."""

    def _score_rows(self, rows: np.ndarray) -> np.ndarray:
        """The same scores :math:`c_i` for every user (unknown users get them too)."""
        return np.broadcast_to(self.item_counts, (len(rows), self.n_items)).copy()
