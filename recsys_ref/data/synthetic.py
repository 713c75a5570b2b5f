"""Small synthetic ratings with a planted low-rank structure, for fast tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_synthetic_ratings(
    n_users: int = 60,
    n_items: int = 40,
    *,
    rank: int = 3,
    density: float = 0.5,
    noise: float = 0.0,
    seed: int = 0,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Sample integer ratings 1..5 from a planted rank-``rank`` matrix.

    The true matrix is ``M = 3 + U V^T`` with ``U`` (``n_users x rank``) and
    ``V`` (``n_items x rank``) drawn with i.i.d. ``N(0, 1/sqrt(rank))`` entries
    (variance ``1/sqrt(rank)``, standard deviation ``rank**-0.25``), so every
    entry of ``U V^T`` has variance 1 and most entries of ``M`` fall in
    [1, 5]. Each cell is observed with probability ``density``; then one cell
    of every user's row and one of every item's column are forced observed,
    so every user and every item has at least one rating and the observed
    share is about ``density`` (slightly more for small or sparse matrices).
    An observed rating is ``M[u, i]`` plus Gaussian noise of standard
    deviation ``noise``, rounded and clipped to 1..5. Timestamps are uniform
    random integers in [800,000,000, 900,000,000) with no structure.

    Args:
        n_users, n_items: Matrix shape (at least 1 each).
        rank: Rank of the planted structure (at least 1).
        density: Probability that a cell is observed, in (0, 1].
        noise: Standard deviation of the noise added before rounding (>= 0).
        seed: Seed for every random draw; the same arguments give the same data.

    Returns:
        ``(ratings, true_matrix)``: a frame with ``user_id``, ``item_id``,
        ``rating``, ``timestamp`` (1-based ids, int64, sorted by user then
        item, one row per observed cell) and the noiseless float matrix
        ``(n_users, n_items)`` (not rounded or clipped).

    Raises:
        ValueError: On a size or rank below 1, a density outside (0, 1] or a
            negative noise.
    """
    for name, value in (("n_users", n_users), ("n_items", n_items), ("rank", rank)):
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}.")
    if not 0.0 < density <= 1.0:
        raise ValueError(f"density must be in (0, 1], got {density}.")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}.")
    rng = np.random.default_rng(seed)
    scale = 1.0 / np.sqrt(np.sqrt(rank))
    true_matrix = (
        3.0 + rng.normal(0, scale, (n_users, rank)) @ rng.normal(0, scale, (n_items, rank)).T
    )
    observed = rng.random((n_users, n_items)) < density
    observed[np.arange(n_users), rng.integers(0, n_items, n_users)] = True
    observed[rng.integers(0, n_users, n_items), np.arange(n_items)] = True
    users, items = np.nonzero(observed)
    values = (
        true_matrix[users, items] + rng.normal(0, noise, len(users))
        if noise > 0
        else true_matrix[users, items]
    )
    ratings = pd.DataFrame(
        {
            "user_id": users.astype(np.int64) + 1,
            "item_id": items.astype(np.int64) + 1,
            "rating": np.clip(np.round(values), 1, 5).astype(np.int64),
            "timestamp": rng.integers(800_000_000, 900_000_000, len(users)).astype(np.int64),
        }
    )
    return ratings, true_matrix
