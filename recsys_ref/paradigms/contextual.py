"""Contextual recommendation, with time as the context: what is popular at a given moment.

:func:`recency_popular_items` lists what was popular at a moment, old ratings
fading out with a half-life; :class:`RecencyPopularity` is the same idea as a
(non-personalised) rating predictor and ranking scorer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import numpy as np
import pandas as pd

from recsys_ref.base import RatingPredictor, take_known
from recsys_ref.paradigms._checks import (
    check_half_life,
    check_non_negative,
    check_positive_int,
    check_ratings,
    top,
)

SECONDS_PER_DAY = 86_400


def _to_seconds(at: int | float | str | pd.Timestamp) -> float:
    """``at`` in Unix seconds; a date string or a naive Timestamp is read as UTC."""
    if isinstance(at, (str, pd.Timestamp)):
        stamp = pd.Timestamp(at)
        if stamp.tzinfo is None:
            stamp = stamp.tz_localize("UTC")
        return float(stamp.timestamp())
    if isinstance(at, bool) or not isinstance(at, (int, float, np.integer, np.floating)):
        raise ValueError(
            f"at must be Unix seconds, a date string or a pandas Timestamp, got {at!r}."
        )
    return float(at)


def recency_weights(timestamps: np.ndarray, now: float, half_life_days: float | None) -> np.ndarray:
    """:math:`2^{-(t - t_{ui}) / h}` for ratings made at ``timestamps`` (Unix seconds), seen at ``now``.

    With ``half_life_days=None`` every weight is 1.
    """
    if half_life_days is None:
        return np.ones(len(timestamps))
    age_days = (now - np.asarray(timestamps, dtype=float)) / SECONDS_PER_DAY
    return 0.5 ** (age_days / half_life_days)


def recency_popular_items(
    ratings: pd.DataFrame,
    *,
    at: int | float | str | pd.Timestamp,
    half_life_days: float | None = 30.0,
    k: int = 10,
    min_rating: int | None = None,
    exclude_items: Iterable[int] = (),
) -> pd.DataFrame:
    """What is popular *at a given moment*: popularity with old ratings fading out.

    Only ratings made before ``at`` count (the future is not known at ``at``).
    A rating made :math:`\\Delta t` days before ``at`` has weight
    :math:`2^{-\\Delta t / h}` with half-life :math:`h`, and each item scores
    the sum of its weights:

    .. math:: s_i(t) = \\sum_{u \\in U_i,\\ t_{ui} < t} 2^{-(t - t_{ui})/h}

    With ``half_life_days=None`` every weight is 1, so :math:`s_i` is the plain
    count of ratings before ``at`` (all-time popularity).

    Args:
        ratings: One rating a row, with ``timestamp`` in Unix seconds.
        at: The moment: Unix seconds, a date string (``"1998-04-01"``, read
            as UTC) or a Timestamp.
        half_life_days: :math:`h` > 0 in days, or ``None`` for no decay.
        k: Length of the list.
        min_rating: If given, only ratings at or above it count (popular *and* liked).
        exclude_items: Item ids never to recommend.

    Returns:
        ``item_id``, ``n_ratings`` (counted ratings before ``at``), ``score``; best first.

    Raises:
        ValueError: No rating counts before ``at``, or an argument is out of range.
    """
    check_ratings(ratings, ("timestamp",))
    check_positive_int(k, "k")
    check_half_life(half_life_days)
    now = _to_seconds(at)
    past = ratings[ratings["timestamp"] < now]
    if min_rating is not None:
        past = past[past["rating"] >= min_rating]
    if past.empty:
        raise ValueError(f"no rating counts before {pd.Timestamp(now, unit='s')} (UTC).")
    weight = recency_weights(past["timestamp"].to_numpy(dtype=float), now, half_life_days)
    table = (
        pd.DataFrame({"item_id": past["item_id"].to_numpy(), "weight": weight})
        .groupby("item_id")["weight"]
        .agg(["count", "sum"])
        .rename(columns={"count": "n_ratings", "sum": "score"})
        .reset_index()
    )
    table = table[~table["item_id"].isin(list(exclude_items))]
    return top(table, "item_id", k, ["score", "n_ratings"])


class RecencyPopularity(RatingPredictor):
    """Recency-weighted popularity: a non-personalised predictor and ranking scorer.

    Each training rating made before the moment :math:`t` (``at``) weighs
    :math:`w_{ui} = 2^{-(t - t_{ui})/h}` with half-life :math:`h`, as in
    :func:`recency_popular_items`. The rating prediction is the item's
    recency-weighted damped mean,

    .. math:: \\hat r_{ui} = \\frac{\\sum_{u \\in U_i} w_{ui}\\, r_{ui} + m\\,\\mu}{\\sum_{u \\in U_i} w_{ui} + m}

    the same for every user (with ``half_life_days=None`` it is the damped
    mean of :func:`~recsys_ref.paradigms.damped_item_means`). For ranking,
    :meth:`score_items` returns (``rank_by="count"``, the default) the item's
    weighted number of ratings :math:`s_i(t) = \\sum_{u \\in U_i} w_{ui}`,
    what is popular now, rather than its predicted rating; with
    ``rank_by="rating"`` it returns the predicted ratings.

    Fallback: an item without ratings before :math:`t` gets :math:`\\mu` (and
    popularity 0); the user plays no part.

    Args:
        half_life_days: :math:`h` > 0 in days, or ``None`` for no decay; default 30.
        at: The moment :math:`t` (Unix seconds, a date string read as UTC, or a
            Timestamp); default one second after the last training rating.
        damping: :math:`m` >= 0, pseudo-ratings at :math:`\\mu`; default 10.
        rank_by: ``"count"`` (default) or ``"rating"``: what :meth:`score_items` returns.
        rating_range: ``(low, high)`` for clipping; default ``(1.0, 5.0)``.

    Attributes (set by :meth:`fit`):
        now: :math:`t`, in Unix seconds.
        item_weight: ``(n_items,)`` :math:`s_i(t)`.
        item_rating: ``(n_items,)`` the predicted rating of each item.
    """

    def __init__(
        self,
        *,
        half_life_days: float | None = 30.0,
        at: int | float | str | pd.Timestamp | None = None,
        damping: float = 10.0,
        rank_by: Literal["count", "rating"] = "count",
        rating_range: tuple[float, float] | None = (1.0, 5.0),
    ) -> None:
        check_half_life(half_life_days)
        check_non_negative(damping, "damping")
        if rank_by not in ("count", "rating"):
            raise ValueError(f"rank_by must be 'count' or 'rating', got {rank_by!r}.")
        if at is not None:
            _to_seconds(at)
        self.half_life_days = half_life_days
        self.at = at
        self.damping = damping
        self.rank_by = rank_by
        self.rating_range = rating_range

    def _fit(
        self, users: np.ndarray, items: np.ndarray, ratings: np.ndarray, frame: pd.DataFrame
    ) -> None:
        if "timestamp" not in frame.columns:
            raise ValueError("RecencyPopularity.fit: the ratings lack the column 'timestamp'.")
        timestamps = pd.to_numeric(frame["timestamp"], errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
        if not np.isfinite(timestamps).all():
            position = int(np.argmax(~np.isfinite(timestamps)))
            raise ValueError(
                f"RecencyPopularity.fit: timestamps must be Unix seconds; row {position} "
                f"(index label {frame.index[position]!r}) has {frame['timestamp'].iloc[position]!r}."
            )
        self.now = float(timestamps.max()) + 1.0 if self.at is None else _to_seconds(self.at)
        weight = np.where(
            timestamps < self.now, recency_weights(timestamps, self.now, self.half_life_days), 0.0
        )
        self.item_weight = np.bincount(items, weight, minlength=self.n_items)
        weighted_sum = np.bincount(items, weight * ratings, minlength=self.n_items)
        total = self.item_weight + self.damping
        self.item_rating = np.divide(
            weighted_sum + self.damping * self.global_mean,
            total,
            out=np.full(self.n_items, self.global_mean),
            where=total > 0,
        )

    def _estimate(
        self, users: np.ndarray, items: np.ndarray, known_users: np.ndarray, known_items: np.ndarray
    ) -> np.ndarray:
        return take_known(self.item_rating, items, known_items, default=self.global_mean)

    def _score(self, users: np.ndarray, known_users: np.ndarray, n_items: int) -> np.ndarray:
        items = np.arange(n_items)
        known_items = self._known(items, self.known_items)
        if self.rank_by == "count":
            row = take_known(self.item_weight, items, known_items)
        else:
            row = take_known(self.item_rating, items, known_items, default=self.global_mean)
        return np.broadcast_to(row, (len(users), n_items)).copy()
