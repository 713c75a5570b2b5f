"""iALS: weighted matrix factorization of implicit feedback by alternating least squares.

Hu, Koren & Volinsky (2008), "Collaborative filtering for implicit feedback
datasets", ICDM (also called WMF or WALS). Every cell of the 0/1 interaction
matrix :math:`X` is a target, the zeros included, with a confidence weight:

.. math:: \\min_{P, Q} \\sum_{u, i} c_{ui} \\left(X_{ui} - p_u^\\top q_i\\right)^2
    + \\lambda \\left(\\sum_u \\lVert p_u\\rVert^2 + \\sum_i \\lVert q_i\\rVert^2\\right),
    \\qquad c_{ui} = 1 + \\alpha X_{ui}

so an observed interaction counts :math:`1 + \\alpha` times as much as an
unobserved cell. With the item factors :math:`Q` fixed the problem is a
ridge regression per user, solved exactly:

.. math:: p_u = \\left(Q^\\top Q + \\alpha\\, Q_u^\\top Q_u + \\lambda I\\right)^{-1} (1 + \\alpha)\\, Q_u^\\top \\mathbf{1}

where :math:`Q_u` holds the factors of the items user :math:`u` interacted
with. The Gramian :math:`Q^\\top Q` is computed once per sweep, so each solve
costs :math:`O(n_u d^2 + d^3)` instead of :math:`O(|I| d^2)` (the "Gramian
trick" of Hu et al.): the zeros are never visited. Items are updated the same
way with users and items swapped; one iteration updates all users, then all
items. Takács, Pilászy & Tikk (2011) replace the exact solve by a few
conjugate-gradient steps; the ``implicit`` library does so by default.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recsys_ref.base import Settings
from recsys_ref.implicit.recommender import ImplicitRecommender


def als_half_sweep(fixed: np.ndarray, interactions: sp.csr_matrix, *, alpha: float, reg: float) -> np.ndarray:
    """Solve for one side's factors with the other side fixed (exact, with the Gramian trick).

    Args:
        fixed: ``(n_cols, d)`` factors of the fixed side (items when solving
            for users).
        interactions: ``(n_rows, n_cols)`` binary CSR, rows = the side to solve for.
        alpha: :math:`\\alpha \\ge 0`, the extra confidence of an interaction.
        reg: :math:`\\lambda > 0`.

    Returns:
        ``(n_rows, d)`` float64, row :math:`r` the minimiser
        :math:`(F^\\top F + \\alpha F_r^\\top F_r + \\lambda I)^{-1}(1 + \\alpha) F_r^\\top \\mathbf 1`;
        zero for a row without interactions.
    """
    n_rows = interactions.shape[0]
    d = fixed.shape[1]
    base = fixed.T @ fixed + reg * np.eye(d)
    solved = np.zeros((n_rows, d))
    indptr, indices = interactions.indptr, interactions.indices
    for row in range(n_rows):
        cols = indices[indptr[row] : indptr[row + 1]]
        if len(cols) == 0:
            continue
        local = fixed[cols]
        solved[row] = np.linalg.solve(base + alpha * (local.T @ local), (1.0 + alpha) * local.sum(axis=0))
    return solved


def ials_loss(
    user_factors: np.ndarray,
    item_factors: np.ndarray,
    interactions: sp.csr_matrix,
    *,
    alpha: float,
    reg: float,
) -> float:
    """The weighted objective above, computed without the dense matrix.

    :math:`\\sum_{u,i} (p_u^\\top q_i)^2` is :math:`\\operatorname{tr}(P^\\top P\\, Q^\\top Q)`; the
    observed cells add :math:`c_{ui}(1 - x_{ui})^2 - x_{ui}^2`.
    """
    rows = np.repeat(np.arange(interactions.shape[0]), np.diff(interactions.indptr))
    observed = np.einsum("nd,nd->n", user_factors[rows], item_factors[interactions.indices])
    all_cells = float(np.trace((user_factors.T @ user_factors) @ (item_factors.T @ item_factors)))
    correction = float(((1.0 + alpha) * (1.0 - observed) ** 2 - observed**2).sum())
    penalty = reg * float((user_factors**2).sum() + (item_factors**2).sum())
    return all_cells + correction + penalty


@dataclass(frozen=True)
class IALSSettings(Settings):
    """Keyword arguments of :class:`IALS` (see there); the defaults are plain starting values."""

    n_factors: int = 64
    alpha: float = 1.0
    reg: float = 1.0
    n_iterations: int = 15
    init_std: float = 0.01
    threshold: float | None = None


#: iALS's settings for the book and ``benchmarks/ranking.py`` (the defaults of :class:`IALS`).
#: Chosen on a validation part of MovieLens 100K's random 80/20 training part
#: (``random_split(train, test_fraction=0.2, seed=1)``; positives = validation ratings >= 4),
#: by NDCG@10 over a grid of threshold (all ratings, >= 4), alpha (1, 3, 10) and
#: reg (10, 30, 100): ``python benchmarks/ranking.py --tune`` prints the grid. The test set
#: played no part. Validation NDCG@10 drops to popularity's when reg is too large for alpha
#: (all factors shrink to the popularity direction).
IALS_TUNED = IALSSettings(alpha=3.0, reg=30.0, threshold=4.0)


class IALS(ImplicitRecommender):
    """Implicit ALS (weighted MF) as a recommender; scores :math:`p_u^\\top q_i`.

    Item factors start as :math:`\\mathcal N(0, \\text{init\\_std}^2)` draws
    (``np.random.default_rng(seed).normal(0, init_std, (n_items, n_factors))``);
    each iteration solves all users, then all items
    (:func:`als_half_sweep`). A user without training interactions would get
    :math:`p_u = 0`; ``score_items`` gives them the popularity fallback instead.

    The defaults are :data:`IALS_TUNED`.

    Args:
        n_factors: :math:`d`.
        alpha: :math:`\\alpha`, confidence :math:`c_{ui} = 1 + \\alpha X_{ui}`.
        reg: :math:`\\lambda`, the L2 weight (not scaled by counts).
        n_iterations: Alternating iterations (users then items).
        init_std: Standard deviation of the initial item factors.
        threshold: Which ratings are interactions (see
            :class:`~recsys_ref.implicit.recommender.ImplicitRecommender`).
        seed: Seed of the initial item factors.

    Attributes:
        user_factors, item_factors: ``(n_users, d)``, ``(n_items, d)`` float64.
        losses: The objective after each iteration (non-increasing).
    """

    def __init__(
        self,
        *,
        n_factors: int = IALS_TUNED.n_factors,
        alpha: float = IALS_TUNED.alpha,
        reg: float = IALS_TUNED.reg,
        n_iterations: int = IALS_TUNED.n_iterations,
        init_std: float = IALS_TUNED.init_std,
        threshold: float | None = IALS_TUNED.threshold,
        seed: int = 0,
    ) -> None:
        super().__init__(threshold=threshold)
        if n_factors < 1 or n_iterations < 1 or alpha < 0 or reg <= 0:
            raise ValueError(
                f"need n_factors >= 1, n_iterations >= 1, alpha >= 0 and reg > 0; "
                f"got {n_factors}, {n_iterations}, {alpha}, {reg}."
            )
        self.n_factors = n_factors
        self.alpha = alpha
        self.reg = reg
        self.n_iterations = n_iterations
        self.init_std = init_std
        self.seed = seed

    def _fit(self, interactions: sp.csr_matrix) -> None:
        rng = np.random.default_rng(self.seed)
        by_item = interactions.T.tocsr()
        by_item.sort_indices()
        self.item_factors = rng.normal(0.0, self.init_std, (self.n_items, self.n_factors))
        self.losses: list[float] = []
        for _ in range(self.n_iterations):
            self.user_factors = als_half_sweep(
                self.item_factors, interactions, alpha=self.alpha, reg=self.reg
            )
            self.item_factors = als_half_sweep(self.user_factors, by_item, alpha=self.alpha, reg=self.reg)
            self.losses.append(
                ials_loss(self.user_factors, self.item_factors, interactions, alpha=self.alpha, reg=self.reg)
            )

    def _score_rows(self, rows: np.ndarray) -> np.ndarray:
        return self.user_factors[rows] @ self.item_factors.T
