"""The non-personalised baseline: items ranked by their damped mean rating."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from recsys_ref.paradigms._checks import check_non_negative, check_positive_int, check_ratings, top


def damped_item_means(
    ratings: pd.DataFrame, *, damping: float = 10.0, prior: float | None = None
) -> pd.DataFrame:
    """Each item's number of ratings, mean rating and damped mean rating.

    The damped (Bayesian) mean adds :math:`m` pseudo-ratings equal to the
    prior :math:`\\mu`:

    .. math:: s_i = \\frac{\\sum_{u \\in U_i} r_{ui} + m\\,\\mu}{|U_i| + m}

    so an item rated once with 5 stars scores close to :math:`\\mu`, while an
    item with hundreds of ratings keeps (nearly) its own mean.

    Args:
        ratings: One rating a row (``user_id``, ``item_id``, ``rating``).
        damping: :math:`m` >= 0, the number of pseudo-ratings; 0 gives the plain mean.
        prior: :math:`\\mu`; default: the mean of all ``ratings``.

    Returns:
        A frame indexed by ``item_id`` (ascending) with ``n_ratings``,
        ``mean_rating`` and ``score`` (the damped mean).
    """
    check_ratings(ratings)
    check_non_negative(damping, "damping")
    mu = float(ratings["rating"].mean()) if prior is None else float(prior)
    grouped = ratings.groupby("item_id")["rating"].agg(["sum", "count"])
    n = grouped["count"].astype(np.int64)
    return pd.DataFrame(
        {
            "n_ratings": n,
            "mean_rating": grouped["sum"] / n,
            "score": (grouped["sum"] + damping * mu) / (n + damping),
        }
    ).rename_axis("item_id")


def popular_items(
    ratings: pd.DataFrame,
    *,
    k: int = 10,
    damping: float = 10.0,
    min_ratings: int = 1,
    exclude_items: Iterable[int] = (),
) -> pd.DataFrame:
    """The non-personalised baseline: the ``k`` items with the highest damped mean rating.

    Everyone gets the same list (minus ``exclude_items``, e.g. what the user
    has already rated). See :func:`damped_item_means` for the score.

    Args:
        ratings: One rating a row.
        k: Length of the list.
        damping: :math:`m`, pseudo-ratings at the global mean.
        min_ratings: Items with fewer ratings are left out.
        exclude_items: Item ids never to recommend.

    Returns:
        ``item_id``, ``n_ratings``, ``mean_rating``, ``score``; best first.
    """
    check_positive_int(k, "k")
    check_positive_int(min_ratings, "min_ratings")
    table = damped_item_means(ratings, damping=damping).reset_index()
    keep = (table["n_ratings"] >= min_ratings) & ~table["item_id"].isin(list(exclude_items))
    return top(table[keep], "item_id", k, ["score", "n_ratings"])
