"""Checks for the assignment ``mf`` (matrix factorization, the seed's tasks 1-5).

Each check compares the student's work with :mod:`recsys_ref.mf` on inputs
the student has not seen, checks types before values, and raises one
:class:`AssertionError` whose message names the task, what was expected,
what was found and the likely cause.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch

from recsys_ref.grading._common import (
    close,
    describe_error,
    fail,
    fmt,
    is_tensor,
    keep_global_rng,
    not_implemented_cause,
    plain,
    type_name,
)
from recsys_ref.mf import clip_to_range, estimate as reference_estimate, masked_mse, minmax_to_range

TASK_FACTORS = "Task 1 (user_factors, movies_factors)"
TASK_OPTIMIZER = "Task 2 (optimizer)"
TASK_LOSS = "Task 3 (calc_loss)"
TASK_ESTIMATE = "Task 4 (estimate)"
TASK_RANGE = "Task 5 (to_rating_range)"
TASK_TRAINING = "Training"


# --------------------------------------------------------------------------- Task 1


def _check_one_factor(
    task: str, name: str, value: Any, expected_shape: tuple[int, int], other_shape: tuple[int, int],
    n_factors: int, what: str,
) -> None:
    """Type, shape, dtype, leaf and gradient checks for one factor tensor."""
    if value is None:
        fail(
            task,
            f"{name} is not defined: the Task 1 cell must assign it. If that cell raised an error, "
            "fix the error first (see the cell's output).",
        )
    if not is_tensor(value):
        fail(
            task,
            f"expected {name} to be a torch.Tensor of shape {expected_shape}, got a {type_name(value)}. "
            f"Create it with torch, e.g. torch.rand(n_factors, {what}, requires_grad=True).",
        )
    shape = tuple(value.shape)
    if shape != expected_shape:
        rows, cols = expected_shape
        if shape == (cols, rows):
            cause = (
                f"The factors are transposed: one row per factor and one column per {what[2:-1]}, "
                f"so create torch.rand(n_factors, {what}, ...)."
            )
        elif shape == other_shape:
            cause = "It has the other tensor's shape: did you swap user_factors and movies_factors?"
        elif len(shape) == 2 and shape[1] == cols:
            cause = f"Use n_factors = {n_factors} rows."
        else:
            cause = f"Create it as torch.rand(n_factors, {what}, requires_grad=True)."
        fail(task, f"expected {name} of shape {expected_shape}, got {shape}. {cause}")
    if not value.is_floating_point():
        fail(
            task,
            f"expected {name} to hold floats, got dtype {value.dtype}. Gradients need a floating "
            "point tensor: use torch.rand or torch.randn, not torch.randint.",
        )
    if not value.requires_grad:
        fail(
            task,
            f"expected {name} to require gradients, but {name}.requires_grad is False, so training "
            "cannot update it. Pass requires_grad=True when you create it (or call .requires_grad_()).",
        )
    if not value.is_leaf:
        fail(
            task,
            f"expected {name} to be a leaf tensor, but it was computed from another tensor that "
            "requires grad (e.g. torch.rand(..., requires_grad=True) * 0.1), and an optimizer cannot "
            "update a non-leaf tensor. Scale first, then call .requires_grad_(): "
            f"(0.1 * torch.randn(n_factors, {what})).requires_grad_().",
        )
    values = plain(value)
    if not torch.isfinite(values).all():
        fail(task, f"expected finite values in {name}, found nan or inf. Initialise it with torch.rand or torch.randn.")
    if values.numel() > 1 and float(values.std()) == 0.0:
        fail(
            task,
            f"expected random initial values, but every entry of {name} equals {fmt(float(values.flatten()[0]))}. "
            "With identical factors every user (and movie) gets the same gradient and they never "
            "become different: initialise randomly with torch.rand or torch.randn.",
        )


def check_factors(user_factors: Any, movies_factors: Any, n_factors: int, n_users: int, n_movies: int) -> None:
    """Task 1: the two trainable latent factor tensors.

    Passes when ``user_factors`` is a float leaf :class:`torch.Tensor` of shape
    ``(n_factors, n_users)`` that requires grad, ``movies_factors`` the same
    with ``(n_factors, n_movies)``, both finite, randomly initialised (not
    constant) and distinct objects.

    Raises:
        AssertionError: With one actionable message, e.g. for transposed
            factors, a missing ``requires_grad``, a non-leaf tensor or a
            constant initialisation.
    """
    task = TASK_FACTORS
    user_shape, movie_shape = (n_factors, n_users), (n_factors, n_movies)
    _check_one_factor(task, "user_factors", user_factors, user_shape, movie_shape, n_factors, "n_users")
    _check_one_factor(task, "movies_factors", movies_factors, movie_shape, user_shape, n_factors, "n_movies")
    if user_factors is movies_factors:
        fail(task, "expected two different tensors, got the same tensor twice. Create movies_factors separately.")


# --------------------------------------------------------------------------- Task 2


def check_optimizer(optimizer: Any, user_factors: Any, movies_factors: Any) -> None:
    """Task 2: a ``torch.optim`` optimizer over exactly the two factor tensors.

    Passes for any :class:`torch.optim.Optimizer` (SGD, Adam, ...) whose
    parameter groups hold exactly ``user_factors`` and ``movies_factors``
    (the same objects, not copies), with a positive learning rate and
    ``maximize`` off.

    Raises:
        AssertionError: With one actionable message, e.g. for an optimizer
            over one tensor only, over copies, or with a zero learning rate.
    """
    task = TASK_OPTIMIZER
    if optimizer is None:
        fail(
            task,
            "optimizer is not defined: the Task 2 cell must assign it. If that cell raised an error, "
            "fix the error first (see the cell's output; torch.optim refuses tensors that are not leaves).",
        )
    if isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer):
        fail(
            task,
            f"expected an optimizer object, got the class {optimizer.__name__} itself. Call it with the "
            f"parameters: optimizer = optim.{optimizer.__name__}([user_factors, movies_factors], lr=0.01).",
        )
    if not isinstance(optimizer, torch.optim.Optimizer):
        fail(
            task,
            f"expected a torch.optim optimizer, got a {type_name(optimizer)}. "
            "Create one, e.g. optimizer = optim.Adam([user_factors, movies_factors], lr=0.01).",
        )
    params = [p for group in optimizer.param_groups for p in group["params"]]
    wanted = {"user_factors": user_factors, "movies_factors": movies_factors}
    missing = [name for name, tensor in wanted.items() if not any(p is tensor for p in params)]
    extra = [p for p in params if not any(p is tensor for tensor in wanted.values())]
    if missing:
        held = ", ".join(str(tuple(p.shape)) for p in params) or "nothing"
        found = f"it holds {len(params)} tensor(s) of shape {held}"
        same_shape = [
            name for name in missing
            if is_tensor(wanted[name]) and any(tuple(p.shape) == tuple(wanted[name].shape) for p in extra)
        ]
        if same_shape:
            cause = (
                f"It holds a copy of {same_shape[0]}, not the tensor itself: create the optimizer after "
                "the factors, from the factors themselves, and do not re-create them afterwards."
            )
        elif len(missing) == 1:
            cause = (
                f"{missing[0]} is missing, so training never updates it: pass both tensors, "
                "e.g. optim.Adam([user_factors, movies_factors], lr=0.01)."
            )
        else:
            cause = "Pass both factor tensors, e.g. optim.Adam([user_factors, movies_factors], lr=0.01)."
        fail(task, f"expected the optimizer to update user_factors and movies_factors, but {found}. {cause}")
    if extra:
        fail(
            task,
            f"expected the optimizer to hold exactly user_factors and movies_factors, but it also holds "
            f"{len(extra)} other tensor(s). Pass only the two factor tensors.",
        )
    for group in optimizer.param_groups:
        lr = group.get("lr")
        try:
            lr_value = float(lr)
        except (TypeError, ValueError):
            fail(task, f"expected a numeric learning rate, got {lr!r}. Pass lr=0.01 (for example).")
        if not (math.isfinite(lr_value) and lr_value > 0):
            fail(
                task,
                f"expected a positive learning rate, got lr={lr_value}: with it a step does not move "
                "the factors. Pass lr=0.01 (for example).",
            )
        if group.get("maximize", False):
            fail(task, "expected the optimizer to minimise the loss, but maximize=True. Remove maximize=True.")


# --------------------------------------------------------------------------- Task 3

#: (n_users, n_movies, n_observed, seed): the first is the visible test's size.
LOSS_CONFIGS = ((3, 4, 5, 0), (5, 7, 12, 1), (1, 6, 2, 2), (8, 3, 9, 3), (6, 6, 30, 4))


def _loss_example(m: int, n: int, k: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Ratings (-1 where unrated), an estimate and a mask with exactly ``k`` observed entries."""
    generator = torch.Generator().manual_seed(1000 + seed)
    exist = torch.zeros(m * n)
    exist[torch.randperm(m * n, generator=generator)[:k]] = 1.0
    exist = exist.reshape(m, n)
    ratings = torch.randint(1, 6, (m, n), generator=generator).float()
    ratings = torch.where(exist > 0, ratings, torch.full_like(ratings, -1.0))
    est = (3.0 + 1.5 * torch.randn(m, n, generator=generator)).float()
    return ratings, est, exist


def _loss_cause(value: float, true_r: torch.Tensor, est: torch.Tensor, exist: torch.Tensor) -> str:
    """The likely cause of a wrong loss value, by comparing it with common mistakes."""
    sq = (true_r - est).square()
    n_obs = float(exist.sum())
    candidates = [
        (float((exist * sq).sum()) / exist.numel(),
         "calc_loss averages over all cells: divide by the number of observed ratings (exist.sum()), "
         "not by the number of cells."),
        (float(sq.mean()),
         "calc_loss ignores the mask: the -1 of every unrated cell counts as a rating. Keep only the "
         "observed entries (multiply the squared error by exist), then divide by exist.sum()."),
        (float(sq.sum()) / n_obs,
         "calc_loss ignores the mask: the -1 of every unrated cell counts as a rating. Keep only the "
         "observed entries (multiply the squared error by exist) before summing."),
        (float(sq.sum()),
         "calc_loss sums over all cells without the mask: keep only the observed entries and average them."),
        (float((exist * sq).sum()),
         "calc_loss returns the sum instead of the mean: divide by the number of observed ratings (exist.sum())."),
        (math.sqrt(float((exist * sq).sum()) / n_obs),
         "calc_loss returns the root of the mean squared error (RMSE): return the mean squared error, without sqrt."),
        (float((exist * (true_r - est).abs()).sum()) / n_obs,
         "calc_loss averages absolute errors: square the errors instead."),
        (float((exist * (true_r - est)).sum()) / n_obs,
         "calc_loss averages the errors without squaring them: square each error before averaging."),
    ]
    for candidate, cause in candidates:
        if math.isclose(value, candidate, rel_tol=1e-4, abs_tol=1e-6):
            return cause
    return "Compute the mean of (true_r - est_r) ** 2 over the entries where exist is 1."


@keep_global_rng
def check_calc_loss(calc_loss: Callable) -> None:
    """Task 3: ``calc_loss(true_r, est_r, exist)``, the mean squared error over observed entries.

    Runs the student's function on several random matrices (-1 where
    unrated, float32, as in the notebook) and compares the value and the
    gradient with :func:`recsys_ref.mf.masked_mse`. The result must be a
    differentiable scalar :class:`torch.Tensor`.

    Raises:
        AssertionError: With one actionable message, e.g. for a loss over all
            cells, without the mask, a sum instead of a mean, or a detached result.
    """
    task = TASK_LOSS
    if not callable(calc_loss):
        fail(task, f"expected calc_loss to be a function, got a {type_name(calc_loss)}. Define it with def calc_loss(true_r, est_r, exist).")
    for m, n, k, seed in LOSS_CONFIGS:
        true_r, est_values, exist = _loss_example(m, n, k, seed)
        where = f"on a {m}x{n} example with {k} observed ratings"
        est = est_values.clone().requires_grad_()
        try:
            loss = calc_loss(true_r.clone(), est, exist.clone())
        except Exception as error:  # noqa: BLE001 - any error in student code is reported
            cause = not_implemented_cause(error) or "Use torch operations on the three tensors (all of shape (n_users, n_movies))."
            fail(task, f"calc_loss raised {describe_error(error)} {where}. {cause}")
        if not is_tensor(loss):
            fail(
                task,
                f"expected a torch.Tensor {where}, got a {type_name(loss)}. Return the tensor itself "
                "(not loss.item() or a number), so that loss.backward() can compute gradients.",
            )
        if loss.numel() != 1:
            fail(
                task,
                f"expected a scalar (one number) {where}, got a tensor of shape {tuple(loss.shape)}. "
                "Average over the observed entries to a single number.",
            )
        reference = masked_mse(true_r, est_values, exist)
        value = float(plain(loss).reshape(()))
        expected = float(reference)
        if not math.isclose(value, expected, rel_tol=1e-4, abs_tol=1e-6):
            fail(task, f"expected {fmt(expected)} {where}, got {fmt(value)}. {_loss_cause(value, true_r, est_values, exist)}")
        if not loss.requires_grad or loss.grad_fn is None:
            fail(
                task,
                f"expected a differentiable loss {where}, but the result has no gradient. Build it from "
                "torch operations on est_r, without .item(), .detach(), .numpy() or torch.tensor(...).",
            )
        loss.reshape(()).backward()
        reference_est = est_values.clone().requires_grad_()
        masked_mse(true_r, reference_est, exist).backward()
        if est.grad is None or not close(est.grad, reference_est.grad, rtol=1e-4, atol=1e-7):
            fail(
                task,
                f"expected the gradient of the loss with respect to est_r to match the masked mean "
                f"squared error {where}, but it differs. Compute the loss from est_r with torch operations only.",
            )


# --------------------------------------------------------------------------- Task 4

#: (n_factors, n_users, n_movies, seed)
ESTIMATE_CONFIGS = ((3, 4, 5, 0), (5, 7, 2, 1), (1, 6, 3, 2), (4, 2, 9, 3), (6, 8, 8, 4))


def _factor_pair(k: int, m: int, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(2000 + seed)
    return torch.randn(k, m, generator=generator), torch.randn(k, n, generator=generator)


def _elementwise_used(estimate: Callable) -> bool:
    """Whether ``estimate`` multiplies elementwise, probed on square factors where that does not crash."""
    user, movies = _factor_pair(4, 4, 4, 99)
    try:
        out = estimate(user.clone(), movies.clone())
    except Exception:  # noqa: BLE001
        return False
    if not is_tensor(out):
        return False
    return close(out, user * movies) or close(out, user.T * movies) or close(out, (user * movies).T)


@keep_global_rng
def check_estimate(estimate: Callable) -> None:
    """Task 4: ``estimate(user_factors, movies_factors)``, the estimated rating matrix.

    Compares the student's function with :func:`recsys_ref.mf.estimate`
    (:math:`U^\\top V`) on random factor tensors of several sizes, and checks
    that the result is a differentiable :class:`torch.Tensor` of shape
    ``(n_users, n_movies)``.

    Raises:
        AssertionError: With one actionable message, e.g. for an elementwise
            product, a transposed result, or rescaling inside ``estimate``.
    """
    task = TASK_ESTIMATE
    if not callable(estimate):
        fail(task, f"expected estimate to be a function, got a {type_name(estimate)}. Define it with def estimate(user_factors, movies_factors).")
    for k, m, n, seed in ESTIMATE_CONFIGS:
        user_values, movie_values = _factor_pair(k, m, n, seed)
        user, movies = user_values.clone().requires_grad_(), movie_values.clone().requires_grad_()
        where = f"for user_factors of shape {(k, m)} and movies_factors of shape {(k, n)}"
        try:
            out = estimate(user, movies)
        except Exception as error:  # noqa: BLE001
            cause = not_implemented_cause(error)
            if cause is None and _elementwise_used(estimate):
                cause = (
                    "estimate multiplies elementwise (*), which needs equal shapes and does not combine "
                    "factors: use the matrix product, user_factors.T @ movies_factors."
                )
            fail(task, f"estimate raised {describe_error(error)} {where}. {cause or 'Use the matrix product user_factors.T @ movies_factors.'}")
        if not is_tensor(out):
            fail(task, f"expected a torch.Tensor {where}, got a {type_name(out)}. Return the tensor user_factors.T @ movies_factors.")
        shape = tuple(out.shape)
        if shape != (m, n):
            if shape == (n, m):
                cause = "The result is transposed (movies x users): use user_factors.T @ movies_factors."
            elif shape == (k, k):
                cause = "user_factors @ movies_factors.T multiplies over users and movies: use user_factors.T @ movies_factors."
            elif shape in ((k, m), (k, n)):
                cause = "estimate multiplies elementwise (*): use the matrix product, user_factors.T @ movies_factors."
            else:
                cause = "Use the matrix product user_factors.T @ movies_factors."
            fail(task, f"expected shape (n_users, n_movies) = {(m, n)} {where}, got {shape}. {cause}")
        expected = reference_estimate(user_values, movie_values)
        if not close(out, expected):
            if close(out, minmax_to_range(expected)) or close(out, clip_to_range(expected)):
                cause = "estimate rescales its result: return the raw product; Task 5 (to_rating_range) does the rescaling."
            else:
                cause = "Entry [u, i] must be the dot product of column u of user_factors and column i of movies_factors: user_factors.T @ movies_factors."
            fail(task, f"expected user_factors.T @ movies_factors {where}, got different values. {cause}")
        if not out.requires_grad:
            fail(
                task,
                f"expected a differentiable result {where}, but it has no gradient. Use torch operations "
                "only, without .detach(), .data or .numpy(), so that training can update the factors.",
            )


# --------------------------------------------------------------------------- Task 5

#: (rows, cols, kind, kwargs, seed); kind "wide" spills beyond [low, high], "inside" lies within it.
RANGE_CONFIGS = (
    (3, 4, "wide", {}, 0),
    (5, 2, "inside", {}, 1),
    (4, 6, "wide", {"low": 0.0, "high": 10.0}, 2),
    (6, 6, "inside", {"low": 1.0, "high": 5.0}, 3),
    (2, 7, "wide", {"low": -1.0, "high": 1.0}, 4),
    (3, 3, "constant", {}, 5),
    (4, 2, "constant", {"low": 0.0, "high": 10.0}, 6),
)


def _range_input(rows: int, cols: int, kind: str, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(3000 + seed)
    if kind == "constant":
        return torch.full((rows, cols), 2.5)
    if kind == "inside":
        return 1.5 + 3.0 * torch.rand(rows, cols, generator=generator)
    return 2.0 + 4.0 * torch.randn(rows, cols, generator=generator)


def _range_cause(out: torch.Tensor, x: torch.Tensor, kind: str, low: float, high: float, custom: bool) -> str:
    values = plain(out)
    mid = (low + high) / 2
    if kind == "constant":
        if not torch.isfinite(values).all():
            return (
                "A constant matrix has max == min, so the division gives nan: when max == min, return a "
                f"matrix filled with the midpoint (low + high) / 2 = {fmt(mid)}."
            )
        return f"A constant matrix must map to the midpoint (low + high) / 2 = {fmt(mid)} everywhere."
    if close(out, clip_to_range(x, low, high)):
        return (
            "to_rating_range clips the values; this task asks for min-max rescaling, as the seed does: "
            "low + (high - low) * (x - min) / (max - min)."
        )
    if custom and close(out, minmax_to_range(x)):
        return "to_rating_range ignores the low and high arguments (it always maps to [1, 5]): use low and high."
    if close(out, low + high - minmax_to_range(x, low, high)):
        return "The minimum must map to low and the maximum to high: use (x - min) / (max - min), not (max - x)."
    if close(out, low + high * (x - x.min()) / (x.max() - x.min())):
        return "Multiply by the width (high - low), not by high: low + (high - low) * (x - min) / (max - min)."
    if close(out, (x - x.min()) / (x.max() - x.min())):
        return "That is the min-max scaling into [0, 1]: map it into [low, high] with low + (high - low) * ..."
    return "Use min-max rescaling: low + (high - low) * (x - x.min()) / (x.max() - x.min())."


@keep_global_rng
def check_to_rating_range(to_rating_range: Callable) -> None:
    """Task 5: ``to_rating_range(estimated, low=1.0, high=5.0)``, min-max rescaling into ``[low, high]``.

    Compares the student's function with :func:`recsys_ref.mf.minmax_to_range`
    on random matrices that spill beyond the range and that lie inside it (so
    clipping and min-max differ), with the default and other ranges, and on
    constant matrices, which must map to the midpoint.

    Raises:
        AssertionError: With one actionable message, e.g. for clipping instead
            of min-max, a constant matrix not mapped to the midpoint, or
            ignoring ``low``/``high``.
    """
    task = TASK_RANGE
    if not callable(to_rating_range):
        fail(task, f"expected to_rating_range to be a function, got a {type_name(to_rating_range)}.")
    for rows, cols, kind, kwargs, seed in RANGE_CONFIGS:
        x = _range_input(rows, cols, kind, seed)
        low, high = kwargs.get("low", 1.0), kwargs.get("high", 5.0)
        call = "to_rating_range(estimated" + "".join(f", {key}={value}" for key, value in kwargs.items()) + ")"
        where = f"for {call} on a {kind if kind == 'constant' else 'random'} {rows}x{cols} matrix"
        try:
            out = to_rating_range(x.clone(), **kwargs)
        except Exception as error:  # noqa: BLE001
            cause = not_implemented_cause(error) or "Use torch operations on the tensor estimated."
            fail(task, f"to_rating_range raised {describe_error(error)} {where}. {cause}")
        if not is_tensor(out):
            fail(task, f"expected a torch.Tensor {where}, got a {type_name(out)}. Keep the result a tensor (no .numpy()).")
        if tuple(out.shape) != (rows, cols):
            fail(task, f"expected the input's shape {(rows, cols)} {where}, got {tuple(out.shape)}. Rescale every entry; do not reduce or reshape.")
        expected = minmax_to_range(x, low, high)
        if not close(out, expected):
            values = plain(out)
            found = (
                f"values from {fmt(float(values.min()))} to {fmt(float(values.max()))}"
                if torch.isfinite(values).all() else "nan or inf values"
            )
            wanted = f"every value {fmt((low + high) / 2)}" if kind == "constant" else f"values from {fmt(low)} to {fmt(high)}, min-max rescaled"
            fail(task, f"expected {wanted} {where}, got {found}. {_range_cause(out, x, kind, low, high, bool(kwargs))}")


# --------------------------------------------------------------------------- training


def check_training_reduced_loss(
    losses: Sequence[float], epochs: int | None = None, substituted: Sequence[str] | None = None
) -> None:
    """The provided training cell: training with the student's pieces reduced the loss.

    Args:
        losses: The loss after each epoch, as recorded by the training cell.
        epochs: The number of epochs the cell ran; when given, every epoch
            must have completed.
        substituted: The pieces the training cell replaced by the reference's
            (:func:`recsys_ref.grading.training_pieces`); when all four were
            replaced, nothing of the student's was trained and the check fails.

    Raises:
        AssertionError: When no or not all epochs completed (the training cell
            raised), the loss became nan or inf, or the last loss is not below
            the first.
    """
    task = TASK_TRAINING
    if substituted is not None and {"factors", "optimizer", "estimate", "calc_loss"} <= set(substituted):
        fail(
            task,
            "expected training to use at least one of your pieces, but the factors, the optimizer, "
            "estimate and calc_loss all fail their task checks, so only the reference's pieces were "
            "trained. Make Tasks 1 to 4 pass first.",
        )
    try:
        values = [float(v) for v in losses]
    except (TypeError, ValueError):
        fail(task, f"expected a list of loss values, got a {type_name(losses)}. Run the training cell unchanged.")
    if not values:
        fail(
            task,
            "expected the loss to decrease during training, but no epoch completed: the training cell "
            "raised an error (see its output). Fix the tasks above that fail first.",
        )
    if epochs is not None and len(values) < epochs:
        fail(
            task,
            f"expected {epochs} epochs, but training stopped after {len(values)}: the training cell raised "
            "an error (see its output). Fix the tasks above that fail first.",
        )
    bad = next((i for i, v in enumerate(values) if not math.isfinite(v)), None)
    if bad is not None:
        fail(
            task,
            f"expected finite losses, but the loss became {values[bad]} at epoch {bad}. The steps are too "
            "large: lower the learning rate, and check that calc_loss averages (a sum makes the gradient "
            "thousands of times larger).",
        )
    if not values[-1] < values[0]:
        fail(
            task,
            f"expected the loss to decrease, but it went from {fmt(values[0])} to {fmt(values[-1])}. Check "
            "that the optimizer holds both factor tensors with a positive learning rate, and that "
            "calc_loss and estimate keep the gradient (no .detach() or .item()).",
        )
