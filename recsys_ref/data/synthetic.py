"""Synthetic ratings: small ones with a known planted matrix for tests, large ones for scale benchmarks.

* :func:`make_synthetic_ratings` draws the whole users x items matrix (it
  returns it, so tests can compare a model's estimates with the truth): for
  small shapes only; it refuses more than :data:`MAX_DENSE_CELLS` cells.
* :func:`sample_synthetic_ratings` draws only the rated pairs, in the shapes
  and skew of real data (popular items, very active users), with memory and
  time in proportion to the number of ratings: MovieLens 10M's shape
  (70K x 11K) in a few seconds and a few hundred MB.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


#: The largest matrix :func:`make_synthetic_ratings` draws (about 0.8 GB of float64 per matrix it holds).
MAX_DENSE_CELLS = 100_000_000


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
        ValueError: On a size or rank below 1, a density outside (0, 1], a
            negative noise, or more than :data:`MAX_DENSE_CELLS` cells (use
            :func:`sample_synthetic_ratings` for large shapes).
    """
    for name, value in (("n_users", n_users), ("n_items", n_items), ("rank", rank)):
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}.")
    if not 0.0 < density <= 1.0:
        raise ValueError(f"density must be in (0, 1], got {density}.")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}.")
    if n_users * n_items > MAX_DENSE_CELLS:
        raise ValueError(
            f"{n_users:,} x {n_items:,} = {n_users * n_items:,} cells is too large to draw as a dense matrix "
            f"(at most {MAX_DENSE_CELLS:,}): use sample_synthetic_ratings, which draws only the rated pairs."
        )
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


def sample_synthetic_ratings(
    n_users: int, n_items: int, n_ratings: int, *, rank: int = 10, seed: int = 0
) -> pd.DataFrame:
    """``n_ratings`` distinct (user, item) pairs with ratings 1..5, drawn without a dense matrix.

    Item popularity falls like :math:`1 / (j + 10)` for the item of
    popularity rank :math:`j` and user activity is log-normal, as in real
    data (pairs drawn twice are replaced by uniform ones). A rating is
    :math:`\\operatorname{round}(3.5 + b_u + b_i + p_u^\\top q_i + \\varepsilon)`
    clipped to 1..5, with Gaussian biases (sd 0.4), factors (sd
    :math:`0.5 / \\sqrt{\\text{rank}}`) and noise :math:`\\varepsilon` (sd 0.5).
    Timestamps are uniform over 1995-2005. Memory and time grow with
    ``n_ratings + (n_users + n_items) * rank``.

    Args:
        n_users, n_items: The shape (at least 1 each).
        n_ratings: How many ratings (at most ``n_users * n_items``).
        rank: Rank of the planted factors (at least 1).
        seed: Seed of every draw.

    Returns:
        A frame with ``user_id``, ``item_id``, ``rating``, ``timestamp`` (1-based int64 ids, in random order).

    Raises:
        ValueError: On a size or rank below 1, or more ratings than cells.
    """
    for name, value in (("n_users", n_users), ("n_items", n_items), ("n_ratings", n_ratings), ("rank", rank)):
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}.")
    if n_ratings > n_users * n_items:
        raise ValueError(f"{n_ratings:,} ratings do not fit in {n_users:,} x {n_items:,} cells.")
    rng = np.random.default_rng(seed)
    item_weight = 1.0 / (np.arange(n_items) + 10.0)
    user_weight = rng.lognormal(0.0, 1.0, n_users)
    users = rng.choice(n_users, n_ratings, p=user_weight / user_weight.sum())
    items = rng.choice(n_items, n_ratings, p=item_weight / item_weight.sum())
    keys = np.unique(users.astype(np.int64) * n_items + items)
    while len(keys) < n_ratings:  # top up the repeated pairs with uniform ones
        extra = rng.integers(0, n_users * n_items, n_ratings - len(keys) + 1000)
        keys = np.unique(np.concatenate([keys, extra]))
    keys = rng.permutation(keys)[:n_ratings]
    users, items = keys // n_items, keys % n_items
    user_bias, item_bias = rng.normal(0, 0.4, n_users), rng.normal(0, 0.4, n_items)
    scale = 0.5 / np.sqrt(rank)
    p, q = rng.normal(0, scale, (n_users, rank)), rng.normal(0, scale, (n_items, rank))
    ratings = np.empty(n_ratings, dtype=np.int64)
    for start in range(0, n_ratings, 1_000_000):  # in chunks: the products are n_ratings x rank
        u, i = users[start : start + 1_000_000], items[start : start + 1_000_000]
        value = 3.5 + user_bias[u] + item_bias[i] + (p[u] * q[i]).sum(axis=1) + rng.normal(0, 0.5, len(u))
        ratings[start : start + 1_000_000] = np.clip(np.round(value), 1, 5)
    return pd.DataFrame(
        {
            "user_id": users + 1,
            "item_id": items + 1,
            "rating": ratings,
            "timestamp": rng.integers(788_918_400, 1_104_537_600, n_ratings),
        }
    )
