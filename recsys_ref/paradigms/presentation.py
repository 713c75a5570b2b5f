"""Presentation: result frames with the items' titles."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from recsys_ref.paradigms._checks import check_columns


def with_titles(
    frame: pd.DataFrame, items: pd.DataFrame, *, columns: Iterable[str] = ("title",)
) -> pd.DataFrame:
    """A copy of ``frame`` with the items' ``title`` (and other ``columns``) right after ``item_id``.

    Raises:
        ValueError: ``frame`` has an ``item_id`` that ``items`` lacks.
    """
    check_columns(frame, ("item_id",), "frame")
    columns = list(columns)
    check_columns(items, columns, "items")
    unknown = sorted(set(frame["item_id"]) - set(items.index))
    if unknown:
        raise ValueError(f"item_id {unknown[0]!r} is not in items.")
    extra = items.loc[frame["item_id"], columns].reset_index(drop=True).set_axis(frame.index)
    position = list(frame.columns).index("item_id") + 1
    out = frame.copy()
    for offset, name in enumerate(columns):
        out.insert(position + offset, name, extra[name])
    return out
