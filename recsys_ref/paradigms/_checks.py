"""Argument checks and the ranking helper shared by the paradigm modules."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from recsys_ref.base import RATING_COLUMNS


def check_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise ``ValueError`` naming the columns of ``columns`` that ``frame`` (called ``what``) lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks the column(s) {', '.join(map(repr, missing))}.")


def check_ratings(ratings: pd.DataFrame, extra: tuple[str, ...] = ()) -> None:
    """A ratings frame has ``user_id``, ``item_id``, ``rating`` (and ``extra``) and at least one row."""
    check_columns(ratings, RATING_COLUMNS + extra, "ratings")
    if len(ratings) == 0:
        raise ValueError("ratings is empty: there is nothing to recommend from.")


def check_positive_int(value: int, name: str) -> None:
    """``value`` is a whole number >= 1 (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {value!r}.")


def check_non_negative(value: float, name: str) -> None:
    """``value`` is a finite number >= 0."""
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}.")


def check_half_life(half_life_days: float | None) -> None:
    """A half-life is ``None`` (no decay) or a finite number of days > 0."""
    if half_life_days is not None and not (np.isfinite(half_life_days) and half_life_days > 0):
        raise ValueError(f"half_life_days must be > 0 or None, got {half_life_days!r}.")


def check_year_weighting(year_weight: float, year_scale: float) -> None:
    """The content score's year weight :math:`w \\in [0, 1]` and year scale :math:`\\tau > 0`."""
    if not 0.0 <= year_weight <= 1.0:
        raise ValueError(f"year_weight must be between 0 and 1, got {year_weight!r}.")
    if not year_scale > 0:
        raise ValueError(f"year_scale must be > 0 (years), got {year_scale!r}.")


def top(frame: pd.DataFrame, id_column: str, k: int, by: list[str]) -> pd.DataFrame:
    """The ``k`` best rows: descending by each column of ``by``, then ascending id; a fresh 0..k-1 index."""
    order = frame.sort_values(
        by + [id_column], ascending=[False] * len(by) + [True], kind="mergesort"
    )
    return order.head(k).reset_index(drop=True)
