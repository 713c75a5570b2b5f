"""The original notebook's dense representation: a ratings matrix and a 0/1 mask."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
import torch

from recsys_ref.data.textfiles import check_ids_in_matrix

#: The original notebook marks a missing rating with -1.
MISSING_RATING = -1.0


class DenseRatings(NamedTuple):
    """A ratings matrix and its mask, as in the original notebook.

    Attributes:
        ratings: float32 tensor ``(n_users, n_items)``; entry ``[u - 1, i - 1]``
            is user ``u``'s rating of item ``i``, or ``-1`` when unrated.
        exist: float32 tensor of the same shape: 1 where rated, 0 elsewhere.
    """

    ratings: torch.Tensor
    exist: torch.Tensor


def to_dense(ratings: pd.DataFrame, n_users: int, n_items: int) -> DenseRatings:
    """Scatter a ratings frame into the original notebook's dense matrix and mask.

    Args:
        ratings: Columns ``user_id`` (1..n_users), ``item_id`` (1..n_items), ``rating``;
            at most one row per user-item pair.
        n_users, n_items: The matrix shape. Pass the full data set's sizes
            when densifying a split, so that rows and columns keep their ids.

    Returns:
        :class:`DenseRatings` with ``ratings`` and ``exist`` of shape ``(n_users, n_items)``.

    Raises:
        DataFormatError: When an id falls outside the matrix (naming the row,
            the id and the valid range), or a user-item pair occurs twice.
    """
    check_ids_in_matrix(ratings, n_users, n_items)
    users = torch.from_numpy(ratings["user_id"].to_numpy(dtype=np.int64) - 1)
    items = torch.from_numpy(ratings["item_id"].to_numpy(dtype=np.int64) - 1)
    matrix = torch.full((n_users, n_items), MISSING_RATING, dtype=torch.float32)
    matrix[users, items] = torch.from_numpy(ratings["rating"].to_numpy(dtype=np.float32))
    exist = torch.zeros((n_users, n_items), dtype=torch.float32)
    exist[users, items] = 1.0
    return DenseRatings(matrix, exist)
