"""Baselines every model must beat: the global mean and the bias model.

Both are :class:`~recsys_ref.base.RatingPredictor` s: ``fit(ratings)`` returns
``self``; ``predict(user_ids, item_ids)`` takes raw ids, falls back for
unknown ones and clips to the rating range; ``score_items(user_ids)`` scores
every item for ranking.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsys_ref.base import RatingPredictor, take_known


class GlobalMean(RatingPredictor):
    """Predict the mean training rating for every pair.

    .. math:: \\hat r_{ui} = \\mu = \\frac{1}{|R|} \\sum_{(u, i) \\in R} r_{ui}

    where :math:`R` is the set of training ratings. It is the best constant
    under squared error, and the floor every model must clear. Unknown users
    and items get :math:`\\mu` like everyone else. All items score the same in
    :meth:`score_items`, so it cannot rank.

    Args:
        rating_range: ``(low, high)`` for clipping; default ``(1.0, 5.0)``.
            ``None`` clips to the range of the training ratings.

    Attributes (set by :meth:`fit`):
        global_mean: :math:`\\mu`.
    """

    def __init__(self, *, rating_range: tuple[float, float] | None = (1.0, 5.0)) -> None:
        self.rating_range = rating_range

    def _fit(
        self, users: np.ndarray, items: np.ndarray, ratings: np.ndarray, frame: pd.DataFrame
    ) -> None:
        """Nothing to learn beyond :math:`\\mu`, which :meth:`fit` has set."""

    def _estimate(
        self, users: np.ndarray, items: np.ndarray, known_users: np.ndarray, known_items: np.ndarray
    ) -> np.ndarray:
        return np.full(len(users), self.global_mean)


class BiasBaseline(RatingPredictor):
    """The mean plus a user bias and an item bias, damped towards 0.

    Prediction rule (Koren 2010, section 2.1):

    .. math:: \\hat r_{ui} = b_{ui} = \\mu + b_u + b_i

    where :math:`\\mu` is the mean training rating, :math:`b_u` how much user
    :math:`u` rates above the mean and :math:`b_i` how much item :math:`i` is
    rated above it. The biases minimise

    .. math:: \\sum_{(u, i) \\in R} (r_{ui} - \\mu - b_u - b_i)^2
        + \\lambda_u \\sum_u b_u^2 + \\lambda_i \\sum_i b_i^2

    by alternating least squares: ``n_sweeps`` sweeps of the closed-form updates

    .. math:: b_i = \\frac{\\sum_{u \\in U_i} (r_{ui} - \\mu - b_u)}{\\lambda_i + |U_i|},
        \\qquad b_u = \\frac{\\sum_{i \\in I_u} (r_{ui} - \\mu - b_i)}{\\lambda_u + |I_u|}

    (items first, all :math:`b_u = 0` at the start), where :math:`U_i` are the
    users who rated item :math:`i` and :math:`I_u` the items user :math:`u`
    rated. The :math:`\\lambda` shrink the biases of users and items with few
    ratings towards 0. This is Surprise's ``BaselineOnly`` with
    ``method="als"`` (Hug 2020).

    Fallback: an unknown user or item has bias 0, so an unknown user gets
    :math:`\\mu + b_i`, an unknown item :math:`\\mu + b_u`, both unknown :math:`\\mu`.

    Args:
        user_reg: :math:`\\lambda_u`; default 15.
        item_reg: :math:`\\lambda_i`; default 10.
        n_sweeps: Alternating sweeps; default 10.
        rating_range: ``(low, high)`` for clipping; default ``(1.0, 5.0)``.
            ``None`` clips to the range of the training ratings.

    Attributes (set by :meth:`fit`):
        global_mean: :math:`\\mu`.
        bu: ``(n_users,)`` user biases; ``bu[u - 1]`` is :math:`b_u` (0 for users without ratings).
        bi: ``(n_items,)`` item biases; ``bi[i - 1]`` is :math:`b_i`.
    """

    def __init__(
        self,
        *,
        user_reg: float = 15.0,
        item_reg: float = 10.0,
        n_sweeps: int = 10,
        rating_range: tuple[float, float] | None = (1.0, 5.0),
    ) -> None:
        self.user_reg = user_reg
        self.item_reg = item_reg
        self.n_sweeps = n_sweeps
        self.rating_range = rating_range

    def _fit(
        self, users: np.ndarray, items: np.ndarray, ratings: np.ndarray, frame: pd.DataFrame
    ) -> None:
        n_users, n_items = self.n_users, self.n_items
        user_count = np.bincount(users, minlength=n_users)
        item_count = np.bincount(items, minlength=n_items)
        bu, bi = np.zeros(n_users), np.zeros(n_items)
        residual = ratings - self.global_mean
        # Ids without ratings keep bias 0 (dividing would give 0 / 0 when a lambda is 0).
        for _ in range(self.n_sweeps):
            item_sum = np.bincount(items, residual - bu[users], minlength=n_items)
            bi = np.divide(
                item_sum, self.item_reg + item_count, out=np.zeros(n_items), where=item_count > 0
            )
            user_sum = np.bincount(users, residual - bi[items], minlength=n_users)
            bu = np.divide(
                user_sum, self.user_reg + user_count, out=np.zeros(n_users), where=user_count > 0
            )
        self.bu, self.bi = bu, bi

    def _estimate(
        self, users: np.ndarray, items: np.ndarray, known_users: np.ndarray, known_items: np.ndarray
    ) -> np.ndarray:
        return (
            self.global_mean
            + take_known(self.bu, users, known_users)
            + take_known(self.bi, items, known_items)
        )

    def _score(self, users: np.ndarray, known_users: np.ndarray, n_items: int) -> np.ndarray:
        items = np.arange(n_items)
        item_part = take_known(self.bi, items, self._known(items, self.known_items))
        return (
            self.global_mean + take_known(self.bu, users, known_users)[:, None] + item_part[None, :]
        )

    # --- aliases of earlier releases (arrays indexed by raw id, entry 0 unused) ---

    @property
    def user_bias(self) -> np.ndarray:
        """Deprecated: ``bu`` indexed by raw id (``user_bias[u]``; entry 0 is 0). Use :attr:`bu`."""
        return np.concatenate([[0.0], self.bu])

    @property
    def item_bias(self) -> np.ndarray:
        """Deprecated: ``bi`` indexed by raw id (``item_bias[i]``; entry 0 is 0). Use :attr:`bi`."""
        return np.concatenate([[0.0], self.bi])
