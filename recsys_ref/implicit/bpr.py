"""BPR-MF: matrix factorization trained for ranking with Bayesian personalised ranking.

Rendle, Freudenthaler, Gantner & Schmidt-Thieme (2009), "BPR: Bayesian
personalized ranking from implicit feedback", UAI. The model scores a pair
(user :math:`u`, item :math:`i`) as

.. math:: x_{ui} = p_u^\\top q_i + b_i

with user factors :math:`p_u \\in \\mathbb{R}^d`, item factors
:math:`q_i \\in \\mathbb{R}^d` and (optionally) an item bias :math:`b_i`.
Instead of fitting ratings, BPR asks that a user's positive item :math:`i`
score above an item :math:`j` they did not interact with, and maximises the
log-likelihood of these pairwise orders, with a Gaussian prior (L2):

.. math:: \\min_\\Theta \\; -\\frac{1}{B}\\sum_{(u,i,j)} \\ln \\sigma(x_{ui} - x_{uj})
    \\; + \\; \\frac{\\lambda}{B}\\sum_{(u,i,j)} \\left(\\lVert p_u\\rVert^2 + \\lVert q_i\\rVert^2
    + \\lVert q_j\\rVert^2 + b_i^2 + b_j^2\\right)

over mini-batches of :math:`B` triples: every positive pair
:math:`(u, i)` once per epoch in a random order, each with a negative
:math:`j` drawn uniformly from the user's unseen items
(:mod:`recsys_ref.implicit.sampling`). :math:`\\sigma` is the logistic
function. The criterion is a smooth surrogate of the AUC of each user's
ranking.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from torch import nn

from recsys_ref.base import Settings
from recsys_ref.implicit.interactions import as_csr
from recsys_ref.implicit.recommender import ImplicitRecommender
from recsys_ref.implicit.sampling import NegativeSampler
from recsys_ref.threads import torch_threads


def bpr_loss(positive_scores: torch.Tensor, negative_scores: torch.Tensor) -> torch.Tensor:
    """The BPR criterion :math:`-\\frac{1}{B}\\sum_b \\ln \\sigma(x_{ui} - x_{uj})`, computed stably.

    ``F.logsigmoid`` evaluates :math:`\\ln\\sigma(z) = -\\ln(1 + e^{-z})`
    without overflow: the loss stays finite for differences of any size
    (about :math:`|z|` for :math:`z \\to -\\infty`, 0 for :math:`z \\to
    +\\infty`), where ``torch.log(torch.sigmoid(z))`` gives ``inf`` from
    :math:`z \\approx -104` in float32.

    Args:
        positive_scores: ``(B,)`` :math:`x_{ui}`, scores of the positive items.
        negative_scores: ``(B,)`` :math:`x_{uj}`, scores of the sampled negatives.

    Returns:
        A scalar tensor (differentiable), the mean over the batch.

    Raises:
        ValueError: When the shapes differ or the batch is empty.
    """
    if positive_scores.shape != negative_scores.shape:
        raise ValueError(
            f"positive_scores has shape {tuple(positive_scores.shape)} "
            f"but negative_scores has {tuple(negative_scores.shape)}."
        )
    if positive_scores.numel() == 0:
        raise ValueError("bpr_loss needs at least one (positive, negative) pair.")
    return -F.logsigmoid(positive_scores - negative_scores).mean()


def batch_l2(*rows: torch.Tensor) -> torch.Tensor:
    """L2 penalty on the parameters a batch used, per triple: :math:`\\frac{1}{B}\\sum_t \\lVert t\\rVert_F^2`.

    Args:
        rows: Tensors whose first dimension is the batch (``(B, d)`` factor
            rows or ``(B,)`` biases), e.g. ``p_u, q_i, q_j, b_i, b_j``.

    Returns:
        The sum of all their squared entries divided by :math:`B`, so the
        weight of the prior does not depend on the batch size and an item
        drawn in several triples is penalised as often (the SGD form of
        Rendle et al. 2009, frequency-weighted).

    Raises:
        ValueError: With no tensors, or tensors whose first dimensions differ.
    """
    if not rows:
        raise ValueError("batch_l2 needs at least one tensor.")
    size = rows[0].shape[0]
    if any(r.shape[0] != size for r in rows) or size == 0:
        raise ValueError(
            f"every tensor must have the same non-zero batch size; got {[r.shape[0] for r in rows]}."
        )
    return sum(r.pow(2).sum() for r in rows) / size


class BPRModel(nn.Module):
    """User and item embeddings and item biases; scores :math:`x_{ui} = p_u^\\top q_i + b_i`.

    Args:
        n_users, n_items: Rows of the embedding tables (0-based index = id - 1).
        n_factors: :math:`d`.
        item_bias: Learn :math:`b_i` (initialised to 0); without it
            :math:`x_{ui} = p_u^\\top q_i`.
        init_std: Factors start as :math:`\\mathcal N(0, \\text{init\\_std}^2)` draws.
        seed: Seed of the initial factors.
    """

    def __init__(
        self,
        n_users: int,
        n_items: int,
        n_factors: int = 64,
        *,
        item_bias: bool = True,
        init_std: float = 0.1,
        seed: int = 0,
    ) -> None:
        super().__init__()
        for name, value in (("n_users", n_users), ("n_items", n_items), ("n_factors", n_factors)):
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}.")
        generator = torch.Generator().manual_seed(seed)
        self.user_factors = nn.Embedding(n_users, n_factors)
        self.item_factors = nn.Embedding(n_items, n_factors)
        with torch.no_grad():
            self.user_factors.weight.copy_(torch.randn(n_users, n_factors, generator=generator) * init_std)
            self.item_factors.weight.copy_(torch.randn(n_items, n_factors, generator=generator) * init_std)
        self.item_bias = nn.Embedding(n_items, 1) if item_bias else None
        if self.item_bias is not None:
            nn.init.zeros_(self.item_bias.weight)

    @property
    def n_items(self) -> int:
        return self.item_factors.num_embeddings

    def bias(self, items: torch.Tensor) -> torch.Tensor:
        """``(B,)`` item biases :math:`b_i` (zeros without biases)."""
        if self.item_bias is None:
            return torch.zeros(items.shape, dtype=self.item_factors.weight.dtype)
        return self.item_bias(items).squeeze(-1)

    def score(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """:math:`x_{ui}` for pairs: ``users``, ``items`` ``(B,)`` int64 0-based -> ``(B,)`` float."""
        return (self.user_factors(users) * self.item_factors(items)).sum(dim=-1) + self.bias(items)

    forward = score

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        """Scores of every item: ``users`` ``(B,)`` int64 0-based -> ``(B, n_items)``."""
        scores = self.user_factors(users) @ self.item_factors.weight.T
        if self.item_bias is not None:
            scores = scores + self.item_bias.weight.T
        return scores


@dataclass
class BPRHistory:
    """Mean training objective (BPR loss + L2 term) of each epoch, and the BPR loss alone."""

    objective: list[float] = field(default_factory=list)
    bpr: list[float] = field(default_factory=list)


def train_bpr(
    model: BPRModel,
    interactions: torch.Tensor | np.ndarray | sp.spmatrix,
    *,
    n_epochs: int = 30,
    batch_size: int = 1024,
    lr: float = 0.01,
    reg: float = 1e-4,
    optimizer: str = "adam",
    seed: int = 0,
) -> BPRHistory:
    """Train ``model`` in place with the BPR criterion and uniform negative sampling.

    Each epoch visits every positive pair :math:`(u, i)` (nonzero of
    ``interactions``) once, in an order drawn from a ``torch.Generator``
    seeded with ``seed``; each mini-batch of ``batch_size`` pairs gets one
    negative per pair from the same generator
    (:class:`~recsys_ref.implicit.sampling.NegativeSampler`) and takes one
    optimiser step on ``bpr_loss + reg * batch_l2(p_u, q_i, q_j, b_i, b_j)``.
    The same seed, data and settings give the same model (in one thread;
    the caller chooses the threads, see :mod:`recsys_ref.threads`).

    Args:
        model: The model to train (its embedding tables must match the matrix).
        interactions: ``(n_users, n_items)`` 0/1 matrix, dense or SciPy sparse.
        n_epochs: Passes over the positive pairs.
        batch_size: Triples per step :math:`B` (the last batch may be smaller).
        lr: Learning rate.
        reg: :math:`\\lambda`, the L2 weight per triple.
        optimizer: ``"adam"`` (``torch.optim.Adam``) or ``"sgd"`` (plain SGD,
            as in Rendle et al.).
        seed: Seed of the order of pairs and of the negatives.

    Returns:
        :class:`BPRHistory`, one value per epoch.

    Raises:
        ValueError: On sizes that do not match the model, no interaction, a
            user who interacted with every item, a non-positive ``n_epochs``,
            ``batch_size`` or ``lr``, a negative ``reg`` or an unknown
            ``optimizer``.
    """
    matrix = as_csr(interactions)
    n_users, n_items = matrix.shape
    if (n_users, n_items) != (model.user_factors.num_embeddings, model.n_items):
        raise ValueError(
            f"interactions are {n_users} x {n_items} but the model has "
            f"{model.user_factors.num_embeddings} users and {model.n_items} items."
        )
    if matrix.nnz == 0:
        raise ValueError("train_bpr needs at least one interaction.")
    if n_epochs < 1 or batch_size < 1 or lr <= 0 or reg < 0:
        raise ValueError(
            f"need n_epochs >= 1, batch_size >= 1, lr > 0 and reg >= 0; got {n_epochs}, {batch_size}, {lr}, {reg}."
        )
    if optimizer == "adam":
        step = torch.optim.Adam(model.parameters(), lr=lr)
    elif optimizer == "sgd":
        step = torch.optim.SGD(model.parameters(), lr=lr)
    else:
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}.")
    sampler = NegativeSampler(matrix)
    counts = np.diff(matrix.indptr)
    users = torch.from_numpy(np.repeat(np.arange(n_users, dtype=np.int64), counts))
    positives = torch.from_numpy(matrix.indices.astype(np.int64))
    full = sampler.n_unseen[users] == 0
    if bool(full.any()):
        row = int(users[full][0])
        raise ValueError(
            f"user row {row} (user id {row + 1}) interacted with every item: no negative exists."
        )
    generator = torch.Generator().manual_seed(seed)
    history = BPRHistory()
    model.train()
    for _ in range(n_epochs):
        order = torch.randperm(len(users), generator=generator)
        total_objective = total_bpr = 0.0
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            u, i = users[batch], positives[batch]
            j = sampler.sample(u, generator)
            p_u, q_i, q_j = model.user_factors(u), model.item_factors(i), model.item_factors(j)
            b_i, b_j = model.bias(i), model.bias(j)
            loss = bpr_loss((p_u * q_i).sum(-1) + b_i, (p_u * q_j).sum(-1) + b_j)
            penalty = (
                batch_l2(p_u, q_i, q_j, b_i, b_j) if model.item_bias is not None else batch_l2(p_u, q_i, q_j)
            )
            objective = loss + reg * penalty
            step.zero_grad()
            objective.backward()
            step.step()
            total_objective += float(objective.detach()) * len(batch)
            total_bpr += float(loss.detach()) * len(batch)
        history.objective.append(total_objective / len(order))
        history.bpr.append(total_bpr / len(order))
    model.eval()
    return history


@dataclass(frozen=True)
class BPRSettings(Settings):
    """Keyword arguments of :class:`BPRMF` (see there); the defaults are plain starting values."""

    n_factors: int = 64
    n_epochs: int = 30
    batch_size: int = 1024
    lr: float = 0.01
    reg: float = 1e-4
    optimizer: str = "adam"
    item_bias: bool = True
    init_std: float = 0.1
    threshold: float | None = None


#: BPR-MF's settings for the book and ``benchmarks/ranking.py`` (the defaults of :class:`BPRMF`).
#: Chosen on a validation part of MovieLens 100K's random 80/20 training part
#: (``random_split(train, test_fraction=0.2, seed=1)``; positives = validation ratings >= 4),
#: by NDCG@10 over a grid of threshold (all ratings, >= 4), lr (0.005, 0.01) and
#: reg (0.003, 0.01, 0.03) with 100 epochs of batches of 4,096 triples (a batch of 1,024
#: with lr 0.002 scored the same on validation and trains four times slower):
#: ``python benchmarks/ranking.py --tune`` prints the grid. The test set played no part.
BPR_TUNED = BPRSettings(n_epochs=100, batch_size=4096, lr=0.005, reg=0.01, threshold=4.0)


class BPRMF(ImplicitRecommender):
    """BPR-MF as a recommender: ``fit`` on ratings, ``score_items`` for ranking.

    Trains a :class:`BPRModel` with :func:`train_bpr` in ``n_threads``
    threads (one by default: the model's many small steps run faster
    single-threaded, see :mod:`recsys_ref.threads`). Unknown users (no
    training interaction) get the popularity fallback of
    :meth:`~recsys_ref.implicit.recommender.ImplicitRecommender.score_items`.

    The defaults are :data:`BPR_TUNED`.

    Args:
        n_factors: :math:`d`.
        n_epochs, batch_size, lr, reg, optimizer: See :func:`train_bpr`.
        item_bias: Learn item biases :math:`b_i`.
        init_std: Standard deviation of the initial factors.
        threshold: Which ratings are interactions (see
            :class:`~recsys_ref.implicit.recommender.ImplicitRecommender`).
        seed: Seed of the initial factors, the order of pairs and the negatives.
        n_threads: Torch threads while training and scoring.

    Attributes:
        model: The trained :class:`BPRModel`; ``history``: its :class:`BPRHistory`.
    """

    def __init__(
        self,
        *,
        n_factors: int = BPR_TUNED.n_factors,
        n_epochs: int = BPR_TUNED.n_epochs,
        batch_size: int = BPR_TUNED.batch_size,
        lr: float = BPR_TUNED.lr,
        reg: float = BPR_TUNED.reg,
        optimizer: str = BPR_TUNED.optimizer,
        item_bias: bool = BPR_TUNED.item_bias,
        init_std: float = BPR_TUNED.init_std,
        threshold: float | None = BPR_TUNED.threshold,
        seed: int = 0,
        n_threads: int = 1,
    ) -> None:
        super().__init__(threshold=threshold)
        self.n_factors = n_factors
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.reg = reg
        self.optimizer = optimizer
        self.item_bias = item_bias
        self.init_std = init_std
        self.seed = seed
        self.n_threads = n_threads

    def _fit(self, interactions: sp.csr_matrix) -> None:
        with torch_threads(self.n_threads):
            self.model = BPRModel(
                self.n_users,
                self.n_items,
                self.n_factors,
                item_bias=self.item_bias,
                init_std=self.init_std,
                seed=self.seed,
            )
            self.history = train_bpr(
                self.model,
                interactions,
                n_epochs=self.n_epochs,
                batch_size=self.batch_size,
                lr=self.lr,
                reg=self.reg,
                optimizer=self.optimizer,
                seed=self.seed,
            )

    def _score_rows(self, rows: np.ndarray) -> np.ndarray:
        with torch_threads(self.n_threads), torch.no_grad():
            # In float64, so that a user's scores do not depend on the batch they are scored in.
            users = torch.from_numpy(rows)
            scores = self.model.user_factors(users).double() @ self.model.item_factors.weight.double().T
            if self.model.item_bias is not None:
                scores += self.model.item_bias.weight.double().T
            return scores.numpy()
