"""From ratings to interactions: the 0/1 user x item matrix implicit-feedback models learn from.

An explicit rating says how much a user liked an item; implicit feedback only
says that the user and the item met (a view, a click, a purchase, or here a
rating of any value). We turn ratings into a binary interaction matrix

.. math:: X_{ui} = [\\,u \\text{ rated } i \\text{ with } r_{ui} \\ge \\tau\\,]

under a stated positive threshold :math:`\\tau` (``threshold=None`` counts
every rating). A 0 is *not* a dislike: the user may never have seen the item.
The zeros are missing not at random (users choose what they rate, and they
choose popular items), which is why ranking models treat them as weak
negatives and why popularity is a strong baseline.

Ids: the frame carries raw 1-based ``user_id`` / ``item_id``; row ``u`` and
column ``i`` of the matrix are id - 1 (see :mod:`recsys_ref.base`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch


def _check_size(value: int, name: str) -> int:
    if int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def _positive_pairs(
    ratings: pd.DataFrame, n_users: int, n_items: int, threshold: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """0-based (rows, cols) of the interactions, after checking every row of the frame."""
    n_users, n_items = _check_size(n_users, "n_users"), _check_size(n_items, "n_items")
    columns = ["user_id", "item_id"] + ([] if threshold is None else ["rating"])
    missing = [c for c in columns if c not in ratings.columns]
    if missing:
        raise ValueError(f"the ratings frame has no column {missing[0]!r} (it has {list(ratings.columns)}).")
    for column, limit in (("user_id", n_users), ("item_id", n_items)):
        values = ratings[column].to_numpy()
        if not np.issubdtype(values.dtype, np.integer):
            raise ValueError(f"column {column!r} must hold integer ids, got dtype {values.dtype}.")
        bad = (values < 1) | (values > limit)
        if bad.any():
            label = ratings.index[int(np.argmax(bad))]
            raise ValueError(
                f"row {label!r} of the ratings has {column} {values[bad][0]}, outside 1..{limit}."
            )
    keep = np.ones(len(ratings), dtype=bool)
    if threshold is not None:
        values = ratings["rating"].to_numpy(dtype=float)
        if np.isnan(values).any():
            label = ratings.index[int(np.argmax(np.isnan(values)))]
            raise ValueError(f"row {label!r} of the ratings has no rating (NaN).")
        keep = values >= threshold
    rows = ratings["user_id"].to_numpy(dtype=np.int64)[keep] - 1
    cols = ratings["item_id"].to_numpy(dtype=np.int64)[keep] - 1
    return rows, cols


def interaction_matrix(
    ratings: pd.DataFrame, n_users: int, n_items: int, threshold: float | None = 4.0
) -> torch.Tensor:
    """The dense 0/1 interaction matrix :math:`X`, as a float tensor.

    Args:
        ratings: One rating a row, with ``user_id``, ``item_id`` (1-based
            integer ids) and ``rating`` (needed unless ``threshold`` is None).
        n_users: Rows of the matrix; every ``user_id`` must be in 1..n_users.
        n_items: Columns; every ``item_id`` must be in 1..n_items.
        threshold: :math:`\\tau`: a rating counts as an interaction when it
            is ``>= threshold``; ``None`` counts every rating.

    Returns:
        float32 ``(n_users, n_items)``: ``X[u, i] = 1.0`` when user id
        ``u + 1`` rated item id ``i + 1`` at least ``threshold``, else 0.0.
        A pair rated twice is one interaction (1.0, not 2.0). Users and items
        without ratings give rows and columns of zeros; an empty frame gives
        all zeros.

    Raises:
        ValueError: On a missing column, a size below 1, an id that is not an
            integer or lies outside its range, or a missing (NaN) rating; the
            message names the row (index label) of the frame.
    """
    rows, cols = _positive_pairs(ratings, n_users, n_items, threshold)
    matrix = torch.zeros((n_users, n_items), dtype=torch.float32)
    matrix[torch.from_numpy(rows), torch.from_numpy(cols)] = 1.0
    return matrix


def interaction_matrix_csr(
    ratings: pd.DataFrame, n_users: int, n_items: int, threshold: float | None = 4.0
) -> sp.csr_matrix:
    """The same matrix as :func:`interaction_matrix`, sparse (SciPy CSR, float32).

    For data too large for a dense ``n_users x n_items`` matrix. Each row's
    column indices are sorted and unique, every stored value is 1.0, and
    ``interaction_matrix_csr(...).toarray()`` equals
    ``interaction_matrix(...).numpy()``. Arguments and errors as
    :func:`interaction_matrix`.
    """
    rows, cols = _positive_pairs(ratings, n_users, n_items, threshold)
    matrix = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n_users, n_items), dtype=np.float32
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    matrix.sort_indices()
    return matrix


def as_csr(interactions: torch.Tensor | np.ndarray | sp.spmatrix | sp.sparray) -> sp.csr_matrix:
    """Any 2-D interaction matrix (dense tensor or array, or SciPy sparse) as a binary float32 CSR.

    Stored nonzeros become 1.0 (an interaction), explicit zeros are dropped,
    and each row's indices are sorted.

    Raises:
        ValueError: When the matrix is not 2-D, or holds a negative or NaN value.
    """
    if isinstance(interactions, torch.Tensor):
        interactions = interactions.detach().cpu().numpy()
    if not sp.issparse(interactions):
        interactions = np.asarray(interactions)
    if interactions.ndim != 2:
        raise ValueError(f"an interaction matrix must be 2-D, got {interactions.ndim} dimensions.")
    matrix = sp.csr_matrix(interactions, dtype=np.float64)
    if matrix.nnz and (np.isnan(matrix.data).any() or (matrix.data < 0).any()):
        raise ValueError(
            "an interaction matrix must hold values >= 0 (1 for an interaction), not negative or NaN."
        )
    matrix.eliminate_zeros()
    matrix.sum_duplicates()
    matrix.sort_indices()
    binary = sp.csr_matrix(
        (np.ones(matrix.nnz, dtype=np.float32), matrix.indices.copy(), matrix.indptr.copy()),
        shape=matrix.shape,
    )
    return binary
