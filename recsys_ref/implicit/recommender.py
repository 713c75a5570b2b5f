"""What every implicit-feedback recommender here shares: fitting on ratings, scoring all items.

Each model learns from the 0/1 interaction matrix of
:mod:`recsys_ref.implicit.interactions` and exposes the ranking contract of
:mod:`recsys_ref.base`: ``score_items(user_ids)`` returns an
``(len(user_ids), n_items)`` array whose column ``j`` scores item id ``j + 1``,
higher is better, unclipped. :func:`recsys_ref.ranking.evaluate_ranking`
ranks with it.
"""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from numpy.typing import ArrayLike

from recsys_ref.base import NotFittedError, as_id_array
from recsys_ref.implicit.interactions import as_csr, interaction_matrix_csr


class ImplicitRecommender:
    """Base class: ``fit`` on ratings or ``fit_interactions`` on a matrix, then ``score_items``.

    Subclasses implement :meth:`_fit` (on the binary CSR matrix) and
    :meth:`_score_rows` (0-based rows of known users to scores).

    Args:
        threshold: A rating counts as an interaction when it is
            ``>= threshold``; ``None`` counts every rating (the user chose to
            watch and rate the film, whatever the stars).
    """

    def __init__(self, *, threshold: float | None = None) -> None:
        self.threshold = threshold

    # -- fitting ------------------------------------------------------------------------------

    def fit(self, ratings: pd.DataFrame, *, n_users: int | None = None, n_items: int | None = None):
        """Fit on a ratings frame (raw 1-based ids); returns ``self``.

        Args:
            ratings: ``user_id``, ``item_id`` and (unless ``threshold`` is
                None) ``rating`` columns.
            n_users, n_items: Catalogue sizes; default the largest id in
                ``ratings``. Pass the dataset's sizes (``data.n_users``,
                ``data.n_items``) so that items absent from the training
                part still get a score column.

        Raises:
            ValueError: On a missing column, an empty frame, no rating at or
                above the threshold, or an id outside the given sizes (see
                :func:`~recsys_ref.implicit.interactions.interaction_matrix`).
        """
        missing = [column for column in ("user_id", "item_id") if column not in ratings.columns]
        if missing:
            raise ValueError(f"{type(self).__name__}.fit: the ratings have no column {missing[0]!r}.")
        if len(ratings) == 0:
            raise ValueError(f"{type(self).__name__}.fit needs at least one rating.")
        n_users = int(ratings["user_id"].max()) if n_users is None else n_users
        n_items = int(ratings["item_id"].max()) if n_items is None else n_items
        return self.fit_interactions(interaction_matrix_csr(ratings, n_users, n_items, self.threshold))

    def fit_interactions(self, interactions: torch.Tensor | np.ndarray | sp.spmatrix):
        """Fit on an ``(n_users, n_items)`` 0/1 matrix (row = user id - 1); returns ``self``.

        Raises:
            ValueError: When the matrix has no interaction at all, or is not a
                2-D matrix of values >= 0.
        """
        matrix = as_csr(interactions)
        if matrix.nnz == 0:
            raise ValueError(f"{type(self).__name__} needs at least one interaction to learn from.")
        self.n_users, self.n_items = matrix.shape
        #: ``(n_users,)`` bool: users with at least one training interaction.
        self.known_users = np.diff(matrix.indptr) > 0
        #: ``(n_items,)`` float64: :math:`c_i`, training users who interacted with each item.
        self.item_counts = np.asarray(matrix.sum(axis=0), dtype=np.float64).reshape(-1)
        self._fit(matrix)
        return self

    def _fit(self, interactions: sp.csr_matrix) -> None:
        raise NotImplementedError

    # -- scoring ------------------------------------------------------------------------------

    def score_items(self, user_ids: ArrayLike, *, n_items: int | None = None) -> np.ndarray:
        """Scores of every item for each user, for ranking: ``(len(user_ids), n_items)`` float64.

        Column ``j`` scores item id ``j + 1``; higher is better; scores are
        not clipped, and items the user already interacted with are scored
        too (ranking excludes them).

        Fallback: a user id that is *unknown* (no interaction in training, or
        an id above the fitted ``n_users``; see :mod:`recsys_ref.base`) gets
        the popularity scores :math:`c_i`, the number of training users who
        interacted with each item.

        Args:
            user_ids: Raw 1-based user ids (a 1-D array-like of whole numbers).
            n_items: Number of columns; default the fitted ``n_items``.
                Fewer columns keep the first ``n_items``; columns beyond the
                fitted items are ``-inf`` (never seen in training, so ranked
                after every fitted item).

        Returns:
            float64 ``(len(user_ids), n_items)``.

        Raises:
            NotFittedError: Before ``fit``.
            ValueError: On an id that is not a whole number or is below 1 (ids are 1-based: a 0-based index
                passed by mistake), or ``n_items < 1``.
        """
        if not hasattr(self, "item_counts"):
            raise NotFittedError(f"{type(self).__name__}.score_items called before fit.")
        n_columns = self.n_items if n_items is None else n_items
        if isinstance(n_columns, bool) or int(n_columns) != n_columns or n_columns < 1:
            raise ValueError(f"n_items must be a whole number >= 1, got {n_items!r}.")
        rows = as_id_array(user_ids, "user_ids") - 1
        inside = (rows >= 0) & (rows < self.n_users)
        known = inside & self.known_users[np.where(inside, rows, 0)]
        scores = np.empty((len(rows), self.n_items), dtype=np.float64)
        if known.any():
            scores[known] = self._score_rows(rows[known])
        scores[~known] = self.item_counts
        n_columns = int(n_columns)
        if n_columns <= self.n_items:
            return scores[:, :n_columns]
        return np.hstack([scores, np.full((len(rows), n_columns - self.n_items), -np.inf)])

    def _score_rows(self, rows: np.ndarray) -> np.ndarray:
        """``(len(rows), n_items)`` scores for 0-based rows of known users."""
        raise NotImplementedError

    def __repr__(self) -> str:
        parameters = inspect.signature(type(self).__init__).parameters
        shown = [
            f"{name}={getattr(self, name)!r}" for name in parameters if name != "self" and hasattr(self, name)
        ]
        return f"{type(self).__name__}({', '.join(shown)})"
