"""Negative sampling: for each (user, positive item) pair, an item the user has not interacted with.

Pairwise ranking losses such as BPR compare an item the user interacted with
(a positive) with one they did not (a negative). Scoring all unseen items for
every positive is too costly, so each step draws one negative per pair,
uniformly among the user's unseen items (Rendle et al. 2009). A sampled
"negative" may be an item the user would have liked but never met: the
zeros are unlabelled, not disliked.

The sampler here is exact and needs one random number per pair, no
rejection loop: with :math:`n_u` the number of items user :math:`u` has
interacted with and :math:`N` the number of items, it draws
:math:`r \\sim \\text{Uniform}\\{0, \\dots, N - n_u - 1\\}` and returns the
:math:`r`-th unseen item in increasing index order (:math:`r = 0` the first).
Every unseen item therefore has probability :math:`1 / (N - n_u)`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from recsys_ref.implicit.interactions import as_csr


class NegativeSampler:
    """Uniform negative sampling from a fixed interaction matrix, prepared once.

    Equivalent to :func:`sample_negatives` (same generator, same draws) but
    indexes the matrix once, for training loops that sample many batches.

    Args:
        interactions: ``(n_users, n_items)`` 0/1 matrix, a dense tensor or
            array or a SciPy sparse matrix (nonzero = interacted).
    """

    def __init__(self, interactions: torch.Tensor | np.ndarray | sp.spmatrix) -> None:
        csr = as_csr(interactions)
        self.n_users, self.n_items = csr.shape
        self._indptr = torch.from_numpy(csr.indptr.astype(np.int64))
        counts = self._indptr[1:] - self._indptr[:-1]
        #: ``(n_users,)`` int64: how many items each user has not interacted with.
        self.n_unseen = self.n_items - counts
        # For the sorted seen items s_0 < s_1 < ... of a row, t_m = s_m - m counts the unseen
        # items below s_m. The r-th unseen item is r + #{m : t_m <= r}. Offsetting each row's
        # t by row * n_items makes one sorted array for all rows (0 <= t_m < n_items).
        rows = torch.repeat_interleave(torch.arange(self.n_users, dtype=torch.int64), counts)
        within = torch.arange(csr.nnz, dtype=torch.int64) - self._indptr[rows]
        self._keys = rows * self.n_items + torch.from_numpy(csr.indices.astype(np.int64)) - within

    def sample(self, users: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """One uniformly drawn unseen item per entry of ``users``.

        Args:
            users: ``(B,)`` int64, 0-based user rows (user id - 1); repeats allowed.
            generator: The source of randomness; draws exactly ``B`` float64
                numbers from it (``torch.rand``).

        Returns:
            ``(B,)`` int64, 0-based item indices, each one the user of its
            entry has not interacted with. ``B = 0`` gives an empty tensor.

        Raises:
            ValueError: When ``users`` is not 1-D integer, an entry is outside
                ``0 .. n_users - 1``, or a user has interacted with every item
                (there is nothing to sample); the message names the user.
            TypeError: When ``generator`` is not a ``torch.Generator``.
        """
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}.")
        users = torch.as_tensor(users)
        if users.dim() != 1 or users.is_floating_point() or users.dtype == torch.bool:
            raise ValueError(
                f"users must be a 1-D integer tensor, got shape {tuple(users.shape)} and {users.dtype}."
            )
        users = users.to(torch.int64)
        if users.numel() == 0:
            return torch.empty(0, dtype=torch.int64)
        bad = (users < 0) | (users >= self.n_users)
        if bool(bad.any()):
            raise ValueError(f"user row {int(users[bad][0])} is outside 0..{self.n_users - 1}.")
        available = self.n_unseen[users]
        full = available == 0
        if bool(full.any()):
            row = int(users[full][0])
            raise ValueError(
                f"user row {row} (user id {row + 1}) has interacted with all {self.n_items} items: "
                "there is no negative to sample."
            )
        uniform = torch.rand(users.numel(), generator=generator, dtype=torch.float64)
        r = torch.minimum((uniform * available).to(torch.int64), available - 1)
        below = torch.searchsorted(self._keys, users * self.n_items + r, right=True) - self._indptr[users]
        return r + below


def sample_negatives(
    users: torch.Tensor,
    interactions: torch.Tensor | np.ndarray | sp.spmatrix,
    generator: torch.Generator,
) -> torch.Tensor:
    """For each user in a batch, one item they have not interacted with, uniformly.

    Args:
        users: ``(B,)`` int64, 0-based user rows of the (user, positive item)
            pairs; repeats allowed.
        interactions: ``(n_users, n_items)`` 0/1 matrix (dense tensor or
            array, or SciPy sparse); nonzero means interacted.
        generator: A seeded ``torch.Generator``; exactly ``B`` float64 numbers
            are drawn from it, so the same seed gives the same negatives.

    Returns:
        ``(B,)`` int64 0-based item indices :math:`j` with
        ``interactions[users[b], j] == 0``, each drawn uniformly among that
        user's unseen items (see the module docstring for the method).

    Raises:
        ValueError: When a user has interacted with every item (no negative
            exists; the message names the user), or ``users`` is not a 1-D
            integer tensor of rows in range.
        TypeError: When ``generator`` is not a ``torch.Generator``.
    """
    return NegativeSampler(interactions).sample(users, generator)
