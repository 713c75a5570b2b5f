"""Working pieces in place of broken ones, so that each task of ``mf`` can be worked on (and graded) on its own.

* :func:`usable_factors` (the provided cell after Task 1): the student's
  factors when they are usable tensors, otherwise fresh ones of the right
  shapes, so that Task 2 can be written and graded even when Task 1 is wrong.
  On the student's machine the fresh factors come from
  :func:`recsys_ref.mf.init_factors`; while grading they come from the
  grader's probe (data), because the reference implementation is not
  available in the grading sandbox.
* :func:`training_pieces` (the provided training cell, on the student's
  machine only; the grader replays the training itself): the student's
  pieces where they work, the reference's where they do not, and which.

Whether a piece is *usable* here is a quick test for the notebook's own
data, not the grade: the grader's checks decide the score.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from recsys_ref.grading.exchange import exchange_dir, read_probe
from recsys_ref.grading.mf import FRESH_FACTORS


def _factor_usable(value: Any, shape: tuple[int, int]) -> bool:
    return (
        isinstance(value, torch.Tensor)
        and tuple(value.shape) == shape
        and value.is_floating_point()
        and value.requires_grad
        and value.is_leaf
        and bool(torch.isfinite(value.detach()).all())
    )


def factors_usable(user_factors: Any, movies_factors: Any, n_factors: int, n_users: int, n_movies: int) -> bool:
    """Whether the two factor tensors can be trained as they are (shapes, float, leaf, requires_grad, finite)."""
    return (
        user_factors is not movies_factors
        and _factor_usable(user_factors, (n_factors, n_users))
        and _factor_usable(movies_factors, (n_factors, n_movies))
    )


def _fresh_factors(n_factors: int, n_users: int, n_movies: int) -> tuple[torch.Tensor, torch.Tensor]:
    if exchange_dir() is not None:
        probe = read_probe(FRESH_FACTORS)
        users, movies = probe.tensors["user_factors"].float(), probe.tensors["movies_factors"].float()
        if tuple(users.shape) != (n_factors, n_users) or tuple(movies.shape) != (n_factors, n_movies):
            raise RuntimeError("the grader's fresh factors do not have the notebook's shapes")
        return users.requires_grad_(), movies.requires_grad_()
    from recsys_ref.mf import init_factors

    return init_factors(n_factors, n_users, n_movies)


def usable_factors(user_factors: Any, movies_factors: Any, n_factors: int, n_users: int, n_movies: int,
                   *, verbose: bool = True) -> tuple[Any, Any, bool]:
    """The student's factors if usable, otherwise fresh factors of the right shapes.

    Returns:
        ``(user_factors, movies_factors, replaced)``; ``replaced`` is True when
        fresh factors were returned.
    """
    if factors_usable(user_factors, movies_factors, n_factors, n_users, n_movies):
        return user_factors, movies_factors, False
    if verbose:
        print("Your Task 1 factors cannot be trained as they are (see the test above): from here on, fresh "
              "factors of the right shapes are used instead, so that you can work on the next tasks. "
              "Task 1 keeps its own score.")
    fresh_users, fresh_movies = _fresh_factors(n_factors, n_users, n_movies)
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


def _optimizer_usable(optimizer: Any, user_factors: torch.Tensor, movies_factors: torch.Tensor) -> bool:
    if not isinstance(optimizer, torch.optim.Optimizer):
        return False
    params = [p for group in optimizer.param_groups for p in group["params"]]
    if len(params) != 2 or not any(p is user_factors for p in params) or not any(p is movies_factors for p in params):
        return False
    try:
        return all(math.isfinite(float(g["lr"])) and float(g["lr"]) > 0 and not g.get("maximize", False)
                   for g in optimizer.param_groups)
    except (KeyError, TypeError, ValueError):
        return False


def _function_usable(function: Any, reference: Callable, example: tuple[torch.Tensor, ...]) -> bool:
    """Whether ``function`` matches ``reference`` on one example, with a gradient."""
    if not callable(function):
        return False
    try:
        inputs = [x.clone().requires_grad_(x.is_floating_point()) for x in example]
        out = function(*inputs)
        expected = reference(*example)
        return (isinstance(out, torch.Tensor) and out.shape == expected.shape and out.requires_grad
                and bool(torch.allclose(out.detach().double(), expected.double(), rtol=1e-4, atol=1e-5)))
    except Exception:  # noqa: BLE001 - the student's code may raise anything
        return False


def training_pieces(namespace: dict, n_factors: int, n_users: int, n_movies: int,
                    factors_replaced: bool = False, *, verbose: bool = True) -> TrainingPieces:
    """The pieces the provided training cell trains with, on the student's machine.

    Each of the student's pieces (``user_factors`` and ``movies_factors``,
    ``optimizer``, ``estimate``, ``calc_loss`` in ``namespace``, the
    notebook's ``globals()``) is used when it works on a small example;
    otherwise the reference's (:mod:`recsys_ref.mf`): fresh factors,
    :func:`~recsys_ref.mf.estimate`, :func:`~recsys_ref.mf.masked_mse`, and
    an optimizer of the student's class and settings over the factors used
    (``Adam(lr=0.01)`` if that is not usable either).

    Returns:
        A :class:`TrainingPieces`; ``substituted`` names the replaced pieces.
    """
    from recsys_ref.mf import estimate as reference_estimate
    from recsys_ref.mf import init_factors, masked_mse

    substituted = []
    user_factors, movies_factors = namespace.get("user_factors"), namespace.get("movies_factors")
    if factors_replaced or not factors_usable(user_factors, movies_factors, n_factors, n_users, n_movies):
        substituted.append("factors")
        if not factors_usable(user_factors, movies_factors, n_factors, n_users, n_movies):
            user_factors, movies_factors = init_factors(n_factors, n_users, n_movies)

    optimizer = namespace.get("optimizer")
    if not _optimizer_usable(optimizer, user_factors, movies_factors):
        substituted.append("optimizer")
        try:
            optimizer = type(optimizer)([user_factors, movies_factors], **dict(optimizer.defaults))
        except Exception:  # noqa: BLE001
            optimizer = None
        if not _optimizer_usable(optimizer, user_factors, movies_factors):
            optimizer = torch.optim.Adam([user_factors, movies_factors], lr=0.01)

    generator = torch.Generator().manual_seed(0)
    factors_example = (torch.randn(3, 4, generator=generator), torch.randn(3, 5, generator=generator))
    exist = (torch.rand(4, 5, generator=generator) < 0.5).float()
    exist[0, 0] = 1.0
    loss_example = (torch.where(exist > 0, torch.randint(1, 6, (4, 5), generator=generator).float(), -1.0),
                    torch.randn(4, 5, generator=generator) + 3, exist)

    estimate = namespace.get("estimate")
    if not _function_usable(estimate, reference_estimate, factors_example):
        substituted.append("estimate")
        estimate = reference_estimate

    calc_loss = namespace.get("calc_loss")
    if not _function_usable(calc_loss, masked_mse, loss_example):
        substituted.append("calc_loss")
        calc_loss = masked_mse

    if verbose:
        if substituted:
            print("Training with the reference's " + ", ".join(substituted) + " in place of yours (they do not "
                  "work on a small example: see the tests above) and your other pieces.")
        else:
            print("Training with your pieces.")
    return TrainingPieces(user_factors, movies_factors, optimizer, estimate, calc_loss, substituted)
