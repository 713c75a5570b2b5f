"""Train/test splits of a ratings frame.

Both splits are deterministic and leak nothing: every rating lands in exactly
one part, and nothing computed from the test part is used to make the split.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


#: The columns a ratings frame has (``timestamp`` is needed by :func:`temporal_split` only).
_RATING_COLUMNS = ("user_id", "item_id", "rating")


def _check_fraction(test_fraction: float) -> None:
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be strictly between 0 and 1, got {test_fraction}.")


def _check_ratings(ratings: pd.DataFrame, who: str, columns: tuple[str, ...]) -> None:
    """Refuse anything but a ratings frame (one rating a row) with ``columns``.

    Raises:
        TypeError: ``ratings`` is not a pandas DataFrame.
        ValueError: A column is missing; the message names the missing columns
            and the columns the frame has.
    """
    if not isinstance(ratings, pd.DataFrame):
        raise TypeError(
            f"{who} needs a pandas DataFrame of ratings (as MovieLens.ratings), "
            f"got {type(ratings).__name__}."
        )
    missing = [column for column in columns if column not in ratings.columns]
    if missing:
        has = [str(column) for column in ratings.columns]
        shown = ", ".join(has[:8]) + (f", ... ({len(has)} in all)" if len(has) > 8 else "")
        raise ValueError(
            f"{who} splits a ratings frame, one rating a row with the columns "
            f"{', '.join(columns)} (as MovieLens.ratings); this frame lacks "
            f"{', '.join(missing)} (its columns are {shown or 'none'}). Pass the ratings, "
            "not the films (MovieLens.items) or users (MovieLens.users) table."
        )


def random_split(
    ratings: pd.DataFrame, *, test_fraction: float = 0.2, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out a uniformly random fraction of all ratings.

    Some test users or items may have no training ratings (cold start); models
    must fall back for them, as :class:`~recsys_ref.mf.BiasedMF` does.

    Args:
        ratings: One rating a row, with the columns ``user_id``, ``item_id``
            and ``rating``.
        test_fraction: Share of rows held out, strictly between 0 and 1;
            ``round(test_fraction * len(ratings))`` rows go to the test part.
        seed: Seed of the permutation; the same seed gives the same split.

    Returns:
        ``(train, test)``, each in the original row order with the original index.

    Raises:
        TypeError: When ``ratings`` is not a DataFrame.
        ValueError: When ``ratings`` lacks ``user_id``, ``item_id`` or
            ``rating`` (the message names the missing columns), or
            ``test_fraction`` is not strictly between 0 and 1.
    """
    _check_ratings(ratings, "random_split", _RATING_COLUMNS)
    _check_fraction(test_fraction)
    n_test = int(round(test_fraction * len(ratings)))
    order = np.random.default_rng(seed).permutation(len(ratings))
    is_test = np.zeros(len(ratings), dtype=bool)
    is_test[order[:n_test]] = True
    return ratings[~is_test], ratings[is_test]


def temporal_split(
    ratings: pd.DataFrame, *, test_fraction: float = 0.2
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out each user's latest ratings, as a deployed system would face them.

    For a user with ``n`` ratings, the ``round(test_fraction * n)`` latest (by
    ``timestamp``; ties broken by row order) go to the test part, always
    leaving at least one rating in training. No randomness is involved.

    Args:
        ratings: One rating a row, with the columns ``user_id``, ``item_id``,
            ``rating`` and ``timestamp``.
        test_fraction: Share of each user's ratings held out, strictly
            between 0 and 1.

    Returns:
        ``(train, test)``, each in the original row order with the original
        index. Every user keeps at least one training rating, and each of a
        user's test ratings is at least as late as all of their training ones.

    Raises:
        TypeError: When ``ratings`` is not a DataFrame.
        ValueError: When ``ratings`` lacks ``user_id``, ``item_id``,
            ``rating`` or ``timestamp`` (the message names the missing
            columns), or ``test_fraction`` is not strictly between 0 and 1.
    """
    _check_ratings(ratings, "temporal_split", (*_RATING_COLUMNS, "timestamp"))
    _check_fraction(test_fraction)
    position = np.arange(len(ratings))
    ordered = ratings.assign(_position=position).sort_values(
        ["user_id", "timestamp", "_position"], kind="stable"
    )
    rank_from_end = ordered.groupby("user_id").cumcount(ascending=False).to_numpy()
    counts = ordered.groupby("user_id")["user_id"].transform("size").to_numpy()
    n_test = np.minimum(np.round(test_fraction * counts), counts - 1)
    is_test = np.zeros(len(ratings), dtype=bool)
    is_test[ordered["_position"].to_numpy()] = rank_from_end < n_test
    return ratings[~is_test], ratings[is_test]
