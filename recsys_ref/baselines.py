"""Baselines every model must beat: the global mean and the bias model.

Both follow the contract of :class:`~recsys_ref.mf.BiasedMF`: ``fit(ratings)``
returns ``self``; ``predict(user_ids, item_ids)`` takes raw ids, handles
unknown ones and clips to the rating range.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


class GlobalMean:
    """Predict the mean training rating :math:`\\mu` for every pair."""

    def fit(self, ratings: pd.DataFrame) -> GlobalMean:
        if len(ratings) == 0:
            raise ValueError("GlobalMean.fit needs at least one rating.")
        self.global_mean = float(ratings["rating"].mean())
        return self

    def predict(self, user_ids, item_ids) -> np.ndarray:
        if not hasattr(self, "global_mean"):
            raise RuntimeError("GlobalMean.predict called before fit.")
        return np.full(len(np.asarray(user_ids)), self.global_mean)


class BiasBaseline:
    """:math:`\\hat r_{ui} = \\mu + b_u + b_i`, with damped (regularised) biases.

    Fitted by alternating least squares, a few sweeps of closed-form updates:

    .. math:: b_i = \\frac{\\sum_{u \\in U_i} (r_{ui} - \\mu - b_u)}{\\lambda_i + |U_i|},
        \\qquad b_u = \\frac{\\sum_{i \\in I_u} (r_{ui} - \\mu - b_i)}{\\lambda_u + |I_u|}

    where :math:`U_i` are the users who rated item :math:`i` and :math:`I_u`
    the items user :math:`u` rated; the :math:`\\lambda` shrink the biases of
    users and items with few ratings towards 0 (Koren 2010; Surprise's
    ``BaselineOnly`` with ALS). Unknown users or items get bias 0.

    Args:
        user_reg: :math:`\\lambda_u`.
        item_reg: :math:`\\lambda_i`.
        n_sweeps: Alternating sweeps.
        rating_range: ``(low, high)`` for clipping.
    """

    def __init__(
        self,
        *,
        user_reg: float = 15.0,
        item_reg: float = 10.0,
        n_sweeps: int = 10,
        rating_range: tuple[float, float] = (1.0, 5.0),
    ) -> None:
        self.user_reg = user_reg
        self.item_reg = item_reg
        self.n_sweeps = n_sweeps
        self.rating_range = rating_range

    def fit(self, ratings: pd.DataFrame) -> BiasBaseline:
        if len(ratings) == 0:
            raise ValueError("BiasBaseline.fit needs at least one rating.")
        users = ratings["user_id"].to_numpy(dtype=np.int64)
        items = ratings["item_id"].to_numpy(dtype=np.int64)
        values = ratings["rating"].to_numpy(dtype=float)
        n_users, n_items = users.max() + 1, items.max() + 1
        self.global_mean = float(values.mean())
        user_count = np.bincount(users, minlength=n_users)
        item_count = np.bincount(items, minlength=n_items)
        self.user_bias = np.zeros(n_users)
        self.item_bias = np.zeros(n_items)
        residual = values - self.global_mean
        # Ids without ratings keep bias 0 (dividing would give 0 / 0 when a lambda is 0).
        for _ in range(self.n_sweeps):
            item_sum = np.bincount(items, residual - self.user_bias[users], minlength=n_items)
            self.item_bias = np.divide(
                item_sum, self.item_reg + item_count, out=np.zeros(n_items), where=item_count > 0
            )
            user_sum = np.bincount(users, residual - self.item_bias[items], minlength=n_users)
            self.user_bias = np.divide(
                user_sum, self.user_reg + user_count, out=np.zeros(n_users), where=user_count > 0
            )
        return self

    def predict(self, user_ids, item_ids) -> np.ndarray:
        if not hasattr(self, "global_mean"):
            raise RuntimeError("BiasBaseline.predict called before fit.")
        users = np.asarray(user_ids, dtype=np.int64)
        items = np.asarray(item_ids, dtype=np.int64)
        known_user = (users >= 0) & (users < len(self.user_bias))
        known_item = (items >= 0) & (items < len(self.item_bias))
        bu = np.where(known_user, self.user_bias[np.where(known_user, users, 0)], 0.0)
        bi = np.where(known_item, self.item_bias[np.where(known_item, items, 0)], 0.0)
        low, high = self.rating_range
        return np.clip(self.global_mean + bu + bi, low, high)
