"""Substitutes for broken pieces, so that each task of ``mf`` is graded on its own.

The provided cells of the ``mf`` notebook use the student's pieces (factors,
optimizer, ``calc_loss``, ``estimate``) wherever their task check passes and a
reference piece wherever it fails, and say so. A mistake in one task then
costs that task's points only: the optimizer (Task 2) is judged on usable
factors even when Task 1 is wrong, and the Training check judges training
with whatever of the student's pieces work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch

from recsys_ref.grading.mf_checks import check_calc_loss, check_estimate, check_factors, check_optimizer
from recsys_ref.mf import estimate as reference_estimate
from recsys_ref.mf import init_factors, masked_mse


def _passes(check: Callable, *args: Any) -> bool:
    """True when a task check accepts the piece (any error from the student's code counts as a failure)."""
    try:
        check(*args)
    except Exception:  # noqa: BLE001 - the student's code may raise anything
        return False
    return True


def usable_factors(user_factors: Any, movies_factors: Any, n_factors: int, n_users: int, n_movies: int,
                   *, verbose: bool = True) -> tuple[Any, Any, bool]:
    """The student's factors if they pass the Task 1 check, otherwise fresh reference factors.

    Returns:
        ``(user_factors, movies_factors, replaced)``; ``replaced`` is True when
        fresh factors from :func:`recsys_ref.mf.init_factors` were returned.
    """
    if _passes(check_factors, user_factors, movies_factors, n_factors, n_users, n_movies):
        return user_factors, movies_factors, False
    if verbose:
        print("Your Task 1 factors do not pass its check (see the test above): from here on, fresh "
              "factors of the right shapes are used instead, so that you can work on the next tasks. "
              "Task 1 keeps its score.")
    fresh_users, fresh_movies = init_factors(n_factors, n_users, n_movies)
    return fresh_users, fresh_movies, True


@dataclass
class TrainingPieces:
    """What the training cell trains with, and which pieces were replaced by the reference's."""

    user_factors: torch.Tensor
    movies_factors: torch.Tensor
    optimizer: torch.optim.Optimizer
    estimate: Callable
    calc_loss: Callable
    substituted: list[str] = field(default_factory=list)


def _optimizer_over(optimizer: Any, user_factors: torch.Tensor, movies_factors: torch.Tensor) -> torch.optim.Optimizer | None:
    """An optimizer of the student's class and settings over the given tensors, or None if that is unusable."""
    try:
        rebuilt = type(optimizer)([user_factors, movies_factors], **dict(optimizer.defaults))
    except Exception:  # noqa: BLE001
        return None
    return rebuilt if _passes(check_optimizer, rebuilt, user_factors, movies_factors) else None


def training_pieces(namespace: dict, n_factors: int, n_users: int, n_movies: int,
                    factors_replaced: bool = False, *, verbose: bool = True) -> TrainingPieces:
    """The pieces the provided training cell trains with.

    Each of the student's pieces (``user_factors`` and ``movies_factors``,
    ``optimizer``, ``estimate``, ``calc_loss`` in ``namespace``, the
    notebook's ``globals()``) is used when its task check passes; otherwise:

    * factors: fresh ones from :func:`recsys_ref.mf.init_factors`;
    * ``estimate``: :func:`recsys_ref.mf.estimate`;
    * ``calc_loss``: :func:`recsys_ref.mf.masked_mse`;
    * optimizer: one of the student's class and settings over the factors
      used, or ``Adam(lr=0.01)`` if that is not usable either.

    Args:
        namespace: The notebook's ``globals()``.
        n_factors, n_users, n_movies: The sizes.
        factors_replaced: True when an earlier cell already replaced the
            student's factors (:func:`usable_factors`); they count as substituted.
        verbose: Print which pieces were substituted.

    Returns:
        A :class:`TrainingPieces`; ``substituted`` names the replaced pieces.
    """
    substituted = []
    user_factors, movies_factors = namespace.get("user_factors"), namespace.get("movies_factors")
    if factors_replaced or not _passes(check_factors, user_factors, movies_factors, n_factors, n_users, n_movies):
        substituted.append("factors")
        if not _passes(check_factors, user_factors, movies_factors, n_factors, n_users, n_movies):
            user_factors, movies_factors = init_factors(n_factors, n_users, n_movies)

    optimizer = namespace.get("optimizer")
    if not _passes(check_optimizer, optimizer, user_factors, movies_factors):
        substituted.append("optimizer")
        optimizer = _optimizer_over(optimizer, user_factors, movies_factors) or torch.optim.Adam(
            [user_factors, movies_factors], lr=0.01)

    estimate = namespace.get("estimate")
    if not _passes(check_estimate, estimate):
        substituted.append("estimate")
        estimate = reference_estimate

    calc_loss = namespace.get("calc_loss")
    if not _passes(check_calc_loss, calc_loss):
        substituted.append("calc_loss")
        calc_loss = masked_mse

    if verbose:
        if substituted:
            print("Training with the reference's " + ", ".join(substituted) + " in place of yours (their "
                  "task checks fail) and your other pieces.")
        else:
            print("Training with your pieces.")
    return TrainingPieces(user_factors, movies_factors, optimizer, estimate, calc_loss, substituted)
