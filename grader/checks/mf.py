"""The checks of the assignment ``mf`` (matrix factorization, the original notebook's tasks 1-5).

Each check reads the records of :mod:`recsys_ref.grading.mf` and compares
them with :mod:`recsys_ref.mf`. Notation (as in the notebook and the book):
:math:`P` (``user_factors``, ``n_factors x n_users``), :math:`Q`
(``movies_factors``, ``n_factors x n_movies``), :math:`\\hat R = P^\\top Q`,
:math:`\\Omega` the observed (user, movie) pairs.

What each task requires (the notebook's text states the same):

* Task 1: two distinct float tensors (float32 or float64) of shapes ``(n_factors, n_users)`` and
  ``(n_factors, n_movies)``, leaf tensors that require grad, finite, random
  (not constant).
* Task 2: an optimizer of a ``torch.optim`` class over exactly the two
  tensors, with a positive finite learning rate, minimising.
* Training: replayed by the grader with the student's Task 1 factors and
  Task 2 optimizer (class and settings) and the reference loss and estimate
  for ``EPOCHS`` epochs on the notebook's training matrix (its block of the
  300 most active users and 500 most rated movies, for speed): the loss must
  stay finite and end lower than it started. At least one of Task 1 and
  Task 2 must pass (otherwise nothing of the student's would be trained). Where Task 1 or 2 fails, the fresh
  factors the notebook used, or ``Adam(lr=0.01)``, take its place, so that a
  mistake costs only its own task.
* Task 3: ``calc_loss(true_r, est_r, exist)`` returns the mean squared error
  over the observed entries as a differentiable scalar tensor (any float
  dtype), with the right gradient, without changing its arguments.
* Task 4: ``estimate(user_factors, movies_factors)`` returns
  :math:`P^\\top Q` of shape ``(n_users, n_movies)``, unscaled and
  differentiable in both arguments, without changing them.
* Task 5: ``to_rating_range(estimated, low=1.0, high=5.0)`` returns the
  min-max rescaling into ``[low, high]`` as a tensor of the input's shape
  (float32 or float64); a constant matrix maps to ``(low + high) / 2``; the
  argument is not changed.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any

import torch

from grader.checks._common import (
    STUB_HINT,
    Context,
    Failure,
    Task,
    close,
    error_text,
    fail,
    fmt,
    half_precision,
    is_float_dtype,
    not_implemented,
    require_tensor,
    tensor_of,
    values_text,
)
from recsys_ref.grading import mf as records
from recsys_ref.grading.exchange import Bundle
from recsys_ref.mf import clip_to_range, masked_mse, minmax_to_range

#: The notebook's sizes (its locked cell "setup-sizes"; tests/grader checks that they agree).
N_FACTORS = 50
EPOCHS = 100

TASK_FACTORS = "Task 1 (user_factors, movies_factors)"
TASK_OPTIMIZER = "Task 2 (optimizer)"
TASK_TRAINING = "Training"
TASK_LOSS = "Task 3 (calc_loss)"
TASK_ESTIMATE = "Task 4 (estimate)"
TASK_RANGE = "Task 5 (to_rating_range)"


# --------------------------------------------------------------------------- the notebook's data


@functools.lru_cache(maxsize=1)
def notebook_matrices() -> tuple[torch.Tensor, torch.Tensor]:
    """The notebook's training matrices ``(ratings, exist)``: MovieLens 100K, random 80/20 split, seed 0.

    Loaded once per grading process (a worker grades many notebooks).
    """
    from recsys_ref.data import load_movielens_100k, random_split, to_dense

    movielens = load_movielens_100k()
    train, _ = random_split(movielens.ratings, test_fraction=0.2, seed=0)
    ratings, exist = to_dense(train, movielens.n_users, movielens.n_items)
    return ratings, exist


#: The replay trains on the most active users and most rated movies (a dense block: the same dynamics at a
#: tenth of the cost of the whole matrix).
REPLAY_USERS, REPLAY_MOVIES = 300, 500


@functools.lru_cache(maxsize=1)
def replay_block() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(ratings, exist, user_index, movie_index)`` of the replay's block of the training matrix."""
    ratings, exist = notebook_matrices()
    users = torch.argsort(exist.sum(dim=1), descending=True, stable=True)[:REPLAY_USERS].sort().values
    movies = torch.argsort(exist.sum(dim=0), descending=True, stable=True)[:REPLAY_MOVIES].sort().values
    return ratings[users][:, movies], exist[users][:, movies], users, movies


def notebook_sizes() -> tuple[int, int, int]:
    """``(n_factors, n_users, n_movies)`` of the notebook."""
    ratings, _ = notebook_matrices()
    return N_FACTORS, int(ratings.shape[0]), int(ratings.shape[1])


# --------------------------------------------------------------------------- Task 1


def _check_factor(meta: dict[str, Any], bundle: Bundle, name: str, shape: tuple[int, int], other: tuple[int, int],
                  what: str) -> None:
    if not meta or meta.get("kind") == "none":
        fail(f"{name} is not defined: the Task 1 cell must assign it. If that cell raised an error, fix the "
             "error first (see the cell's output).", "mf-factors")
    require_tensor(meta, name, f"Create it with torch, e.g. torch.rand(n_factors, n_{what}s, requires_grad=True).",
                   "mf-factors")
    found = tuple(meta["shape"])
    if found != shape:
        rows, cols = shape
        if found == (cols, rows):
            cause = (f"The factors are transposed: one row per factor and one column per {what}, so create "
                     f"a tensor of shape (n_factors, n_{what}s).")
        elif found == other:
            cause = "It has the other tensor's shape: did you swap user_factors and movies_factors?"
        elif len(found) == 2 and found[1] == cols:
            cause = f"Use n_factors = {rows} rows."
        else:
            cause = f"Create it with shape (n_factors, n_{what}s)."
        fail(f"expected {name} of shape {shape}, got {found}. {cause}", "mf-factors")
    if not is_float_dtype(meta):
        fail(f"expected {name} to hold floats, got dtype {meta['dtype']}. Gradients need a floating point "
             "tensor: use torch.rand or torch.randn, not torch.randint.", "mf-factors")
    if half_precision(meta):
        fail(f"expected {name} to hold float32 or float64 values, got dtype {meta['dtype']} (half precision). "
             "Task 1 allows float32 (torch.randn's default) or float64: remove the .half() / "
             "dtype=torch.float16 or bfloat16.", "mf-factors")
    if not meta["requires_grad"]:
        fail(f"expected {name} to require gradients, but {name}.requires_grad is False, so training cannot "
             "update it. Pass requires_grad=True when you create it (or call .requires_grad_()).", "mf-factors")
    if not meta["is_leaf"]:
        fail(f"expected {name} to be a leaf tensor, but it was computed from another tensor that requires "
             "grad (e.g. torch.rand(..., requires_grad=True) * 0.1), and an optimizer cannot update a "
             f"non-leaf tensor. Scale first, then call .requires_grad_(): (0.1 * torch.randn(n_factors, "
             f"n_{what}s)).requires_grad_().", "mf-factors")
    values = tensor_of(meta, bundle)
    if not torch.isfinite(values).all():
        fail(f"expected finite values in {name}, found nan or inf. Initialise it with torch.rand or torch.randn.",
             "mf-factors")
    if values.numel() > 1 and float(values.std()) == 0.0:
        fail(f"expected random initial values, but every entry of {name} equals {fmt(float(values.flatten()[0]))}. "
             "With identical factors every user (and movie) gets the same gradient and they never become "
             "different: initialise randomly with torch.rand or torch.randn.", "mf-factors")


def check_factors(context: Context) -> None:
    """Task 1 (see the module docstring)."""
    record = context.record(records.FACTORS, "the factors")
    k, m, n = notebook_sizes()
    _check_factor(record.meta.get("user_factors"), record, "user_factors", (k, m), (k, n), "user")
    _check_factor(record.meta.get("movies_factors"), record, "movies_factors", (k, n), (k, m), "movie")
    if record.meta.get("same_object"):
        fail("expected two different tensors, got the same tensor twice. Create movies_factors separately.",
             "mf-factors")


def fresh_factors_probe(generator: torch.Generator, sources: Mapping[str, str] | None = None) -> dict[str, Bundle]:
    """Fresh factors for a submission whose own cannot be trained (used by the provided cell after Task 1)."""
    k, m, n = notebook_sizes()
    return {records.FRESH_FACTORS: Bundle({}, {"user_factors": torch.rand(k, m, generator=generator),
                                               "movies_factors": torch.rand(k, n, generator=generator)})}


# --------------------------------------------------------------------------- Task 2

ROLES = ("user_factors", "movies_factors")


def _optimizer_class(meta: dict[str, Any]) -> type | None:
    """The torch.optim class the record names, or None when it is not one of torch.optim's."""
    module, _, name = meta.get("class", "").rpartition(".")
    if not module.startswith("torch.optim"):
        return None
    candidate = getattr(torch.optim, name, None)
    if isinstance(candidate, type) and issubclass(candidate, torch.optim.Optimizer) and candidate.__module__ == module:
        return candidate
    return None


def check_optimizer(context: Context) -> None:
    """Task 2 (see the module docstring)."""
    record = context.record(records.OPTIMIZER, "the optimizer")
    meta = record.meta
    if not meta.get("defined"):
        fail("optimizer is not defined: the Task 2 cell must assign it. If that cell raised an error, fix the "
             "error first (see the cell's output; torch.optim refuses tensors that are not leaves).", "mf-optimizer")
    if meta.get("is_optimizer_class"):
        name = meta["class"].rpartition(".")[2]
        fail(f"expected an optimizer object, got the class {name} itself. Call it with the parameters: "
             f"optimizer = optim.{name}([user_factors, movies_factors], lr=0.01).", "mf-optimizer")
    if not meta.get("is_optimizer"):
        fail(f"expected a torch.optim optimizer, got a {meta.get('type')}. Create one, e.g. "
             "optimizer = optim.Adam([user_factors, movies_factors], lr=0.01).", "mf-optimizer")
    if _optimizer_class(meta) is None:
        fail(f"expected an optimizer of one of torch.optim's classes (SGD, Adam, ...), got {meta['class']}. "
             "Use a class from torch.optim.", "mf-optimizer")
    params = [p for group in meta["groups"] for p in group["params"]]
    roles = [p.get("role") for p in params]
    missing = [role for role in ROLES if role not in roles]
    extra = [p for p in params if not p.get("role")]
    if missing:
        held = ", ".join(str(tuple(p["shape"])) if "shape" in p else p.get("role", "?") for p in params) or "nothing"
        k, m, n = notebook_sizes()
        shapes = {"user_factors": [k, m], "movies_factors": [k, n]}
        copies = [role for role in missing if any(p.get("shape") == shapes[role] for p in extra)]
        if copies:
            cause = (f"It holds a copy of {copies[0]}, not the tensor itself: create the optimizer after the "
                     "factors, from the factors themselves, and do not re-create them afterwards.")
        elif len(missing) == 1:
            cause = (f"{missing[0]} is missing, so training never updates it: pass both tensors, e.g. "
                     "optim.Adam([user_factors, movies_factors], lr=0.01).")
        else:
            cause = "Pass both factor tensors, e.g. optim.Adam([user_factors, movies_factors], lr=0.01)."
        fail(f"expected the optimizer to update user_factors and movies_factors, but it holds {held}. {cause}",
             "mf-optimizer")
    if extra or len(roles) != len(set(roles)):
        fail("expected the optimizer to hold exactly user_factors and movies_factors, each once, but it holds "
             f"{len(params)} tensors. Pass only the two factor tensors.", "mf-optimizer")
    for group in meta["groups"]:
        lr = group["settings"].get("lr")
        if not isinstance(lr, (int, float)) or isinstance(lr, bool):
            fail(f"expected a numeric learning rate, got {lr!r}. Pass lr=0.01 (for example).", "mf-optimizer")
        if not (math.isfinite(lr) and lr > 0):
            fail(f"expected a positive learning rate, got lr={lr}: with it a step does not move the factors. "
                 "Pass lr=0.01 (for example).", "mf-optimizer")
        if group["settings"].get("maximize"):
            fail("expected the optimizer to minimise the loss, but maximize=True. Remove maximize=True.",
                 "mf-optimizer")


# --------------------------------------------------------------------------- Training (replayed)


def _replay_optimizer(meta: dict[str, Any], user_factors: torch.Tensor, movies_factors: torch.Tensor) -> torch.optim.Optimizer:
    """The student's optimizer rebuilt from its record (class and per-group settings) over the given tensors."""
    cls = _optimizer_class(meta)
    tensors = {"user_factors": user_factors, "movies_factors": movies_factors}
    groups = []
    for group in meta["groups"]:
        settings = {k: v for k, v in group["settings"].items() if not isinstance(v, dict)}
        settings = {k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()}
        groups.append({"params": [tensors[p["role"]] for p in group["params"]], **settings})
    return cls(groups)


def replay_training(user_factors: torch.Tensor, movies_factors: torch.Tensor, optimizer: torch.optim.Optimizer,
                    ratings: torch.Tensor, exist: torch.Tensor, epochs: int = EPOCHS) -> list[float]:
    """The notebook's training loop with the reference estimate and loss; the loss of each epoch."""
    from recsys_ref.mf import estimate

    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = masked_mse(ratings, estimate(user_factors, movies_factors), exist)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
        if not math.isfinite(losses[-1]):
            break
    return losses


def check_training(context: Context) -> None:
    """Training: replayed with the student's factors and optimizer (see the module docstring)."""
    ratings, exist, user_index, movie_index = replay_block()
    if not context.verdicts.get("task1-factors-test") and not context.verdicts.get("task2-optimizer-test"):
        fail("expected the training to use your factors or your optimizer, but both fail their tasks (see Tasks 1 "
             "and 2), so nothing of yours could be trained. Make Task 1 or Task 2 pass first.", "mf-optimizer")
    factors = context.records.get(records.FACTORS)
    if context.verdicts.get("task1-factors-test") and factors is not None:
        user = tensor_of(factors.meta["user_factors"], factors).float()
        movies = tensor_of(factors.meta["movies_factors"], factors).float()
        start = "your Task 1 factors"
    else:
        fresh = context.probes[records.FRESH_FACTORS]
        user, movies = fresh.tensors["user_factors"].float(), fresh.tensors["movies_factors"].float()
        start = "fresh factors (yours fail Task 1)"
    user = user[:, user_index].clone().requires_grad_()
    movies = movies[:, movie_index].clone().requires_grad_()
    optimizer_record = context.records.get(records.OPTIMIZER)
    if context.verdicts.get("task2-optimizer-test") and optimizer_record is not None:
        optimizer = _replay_optimizer(optimizer_record.meta, user, movies)
        how = f"your optimizer ({optimizer_record.meta['class'].rpartition('.')[2]})"
    else:
        optimizer = torch.optim.Adam([user, movies], lr=0.01)
        how = "Adam(lr=0.01) (yours fails Task 2)"
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        try:
            losses = replay_training(user, movies, optimizer, ratings, exist)
        except Exception as error:  # noqa: BLE001 - an optimizer the notebook's loop cannot drive
            name = optimizer_record.meta["class"].rpartition(".")[2]
            fail(f"expected the notebook's training loop (zero_grad, backward, optimizer.step()) to run with your "
                 f"optimizer, but {name}.step() raised {type(error).__name__}: {str(error).splitlines()[0][:200]}. "
                 f"{name} needs something this loop does not give it (LBFGS a closure, SparseAdam sparse "
                 "gradients): use optim.Adam or optim.SGD.", "mf-optimizer")
    where = (f"The grader trained {start} with {how} for {EPOCHS} epochs (on the {REPLAY_USERS} most active users "
             f"and {REPLAY_MOVIES} most rated movies)")
    bad = next((i for i, v in enumerate(losses) if not math.isfinite(v)), None)
    if bad is not None:
        fail(f"expected finite losses, but the loss became {losses[bad]} at epoch {bad}. {where}: the steps are "
             "too large. Lower the learning rate.", "mf-optimizer")
    if not losses[-1] < losses[0]:
        fail(f"expected the loss to decrease, but it went from {fmt(losses[0])} to {fmt(losses[-1])}. {where}. "
             "Choose a learning rate that makes the loss go down, e.g. optim.Adam(..., lr=0.01).", "mf-optimizer")
    context.notes.append(f"{where}: the loss went from {fmt(losses[0])} to {fmt(losses[-1])}.")


# --------------------------------------------------------------------------- function tasks: shared

def _call_args(bundle: Bundle, call: dict[str, Any]) -> list[torch.Tensor]:
    return [bundle.tensors[spec["tensor"]] for spec in call["args"]]


def _outcomes(context: Context, key: str, name: str, signature: str) -> tuple[Bundle, list[dict[str, Any]]]:
    """The record's outcomes, one per probe call, after the checks every function task shares."""
    record = context.record(key, name)
    if not record.meta.get("defined"):
        fail(f"{name} is not defined: its cell must define it ({signature}). If that cell raised an error, fix "
             "the error first (see the cell's output).")
    if not record.meta.get("callable"):
        fail(f"expected {name} to be a function, got a {record.meta.get('type')}. Define it with {signature}.")
    calls = record.meta.get("calls", [])
    if len(calls) != len(context.probes[key].meta["calls"]):
        fail(f"the grader's test of {name} did not finish (the kernel stopped during it).")
    return record, calls


def _no_error(outcome: dict[str, Any], name: str, where: str, hint: str, book: str | None = None) -> None:
    error = outcome.get("error")
    if error:
        cause = STUB_HINT if not_implemented(error) else hint
        fail(f"{name} raised {error_text(error)} {where}. {cause}", book)


def _not_modified(outcome: dict[str, Any], names: tuple[str, ...], name: str, where: str, book: str | None = None) -> None:
    if outcome.get("modified"):
        which = names[outcome["modified"][0]]
        fail(f"{name} changes its argument {which} in place {where}: the caller's tensor must stay as it was. "
             "Work on new tensors (e.g. x = x.clone(), or out-of-place operations such as x * mask instead "
             "of x[...] = ...).", book)


# --------------------------------------------------------------------------- Task 3

#: (n_users, n_movies, n_observed, dtype); the first is the visible test's size.
LOSS_SIZES = ((3, 4, 5, "float32"), (5, 7, 12, "float32"), (1, 6, 2, "float32"), (8, 3, 9, "float32"),
              (6, 6, 30, "float32"), (4, 5, 7, "float64"))


def loss_probe(generator: torch.Generator, sources: Mapping[str, str] | None = None) -> dict[str, Bundle]:
    """Rating matrices (-1 where unrated), estimates and masks with a known number of observed entries."""
    bundle = Bundle({"calls": []})
    for m, n, k, dtype in LOSS_SIZES:
        exist = torch.zeros(m * n)
        exist[torch.randperm(m * n, generator=generator)[:k]] = 1.0
        exist = exist.reshape(m, n)
        ratings = torch.randint(1, 6, (m, n), generator=generator).double()
        ratings = torch.where(exist > 0, ratings, torch.full_like(ratings, -1.0))
        est = 3.0 + 1.5 * torch.randn(m, n, generator=generator, dtype=torch.float64)
        bundle.meta["calls"].append({
            "args": [{"tensor": bundle.add_tensor("t", ratings), "dtype": dtype},
                     {"tensor": bundle.add_tensor("t", est), "dtype": dtype, "requires_grad": True},
                     {"tensor": bundle.add_tensor("t", exist), "dtype": dtype}],
            "backward": True, "size": [m, n, k], "dtype": dtype,
        })
    return {records.CALC_LOSS: bundle}


def _loss_cause(value: float, true_r: torch.Tensor, est: torch.Tensor, exist: torch.Tensor) -> str:
    """The likely cause of a wrong loss value, by comparing it with common mistakes."""
    sq = (true_r - est).square()
    n_obs = float(exist.sum())
    candidates = [
        (float((exist * sq).sum()) / exist.numel(),
         "calc_loss averages over all cells: divide by the number of observed ratings (exist.sum()), not by "
         "the number of cells."),
        (float(sq.mean()),
         "calc_loss ignores the mask: the -1 of every unrated cell counts as a rating. Keep only the observed "
         "entries (multiply the squared error by exist), then divide by exist.sum()."),
        (float(sq.sum()) / n_obs,
         "calc_loss ignores the mask: the -1 of every unrated cell counts as a rating. Keep only the observed "
         "entries (multiply the squared error by exist) before summing."),
        (float(sq.sum()), "calc_loss sums over all cells without the mask: keep only the observed entries and "
                          "average them."),
        (float((exist * sq).sum()), "calc_loss returns the sum instead of the mean: divide by the number of "
                                    "observed ratings (exist.sum())."),
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


def check_calc_loss(context: Context) -> None:
    """Task 3 (see the module docstring)."""
    signature = "def calc_loss(true_r, est_r, exist)"
    record, calls = _outcomes(context, records.CALC_LOSS, "calc_loss", signature)
    probe = context.probes[records.CALC_LOSS]
    for call, outcome in zip(probe.meta["calls"], calls):
        true_r, est, exist = _call_args(probe, call)
        m, n, k = call["size"]
        where = f"on a {m}x{n} example with {k} observed ratings ({call['dtype']})"
        _no_error(outcome, "calc_loss", where, "Use torch operations on the three tensors "
                  "(all of shape (n_users, n_movies)).", "mf-loss")
        result = outcome["result"]
        require_tensor(result, f"the loss {where}", "Return the tensor itself (not loss.item() or a number), so "
                       "that loss.backward() can compute gradients.", "mf-loss")
        if math.prod(result["shape"]) != 1:
            fail(f"expected a scalar (one number) {where}, got a tensor of shape {tuple(result['shape'])}. "
                 "Average over the observed entries to a single number.", "mf-loss")
        value = float(tensor_of(result, record).reshape(()))
        expected = float(masked_mse(true_r, est, exist))
        if not math.isclose(value, expected, rel_tol=1e-4, abs_tol=1e-6):
            fail(f"expected {fmt(expected)} {where}, got {fmt(value)}. {_loss_cause(value, true_r, est, exist)}",
                 "mf-loss")
        if not result["requires_grad"] or not result["has_grad_fn"]:
            fail(f"expected a differentiable loss {where}, but the result has no gradient. Build it from torch "
                 "operations on est_r, without .item(), .detach(), .numpy() or torch.tensor(...).", "mf-loss")
        reference_est = est.clone().requires_grad_()
        masked_mse(true_r, reference_est, exist).backward()
        grad = outcome.get("grads", {}).get("1")
        if not grad or grad.get("kind") != "tensor" or not close(tensor_of(grad, record), reference_est.grad,
                                                                   rtol=1e-4, atol=1e-7):
            fail(f"expected the gradient of the loss with respect to est_r to match the masked mean squared "
                 f"error {where}, but it differs. Compute the loss from est_r with torch operations only.", "mf-loss")
        _not_modified(outcome, ("true_r", "est_r", "exist"), "calc_loss", where, "mf-loss")


# --------------------------------------------------------------------------- Task 4

#: (n_factors, n_users, n_movies, dtype); the last is square, to recognise an elementwise product.
ESTIMATE_SIZES = ((3, 4, 5, "float32"), (5, 7, 2, "float32"), (1, 6, 3, "float32"), (4, 2, 9, "float64"),
                  (6, 8, 8, "float32"), (4, 4, 4, "float32"))


def estimate_probe(generator: torch.Generator, sources: Mapping[str, str] | None = None) -> dict[str, Bundle]:
    """Random factor tensors of several sizes, both requiring grad."""
    bundle = Bundle({"calls": []})
    for k, m, n, dtype in ESTIMATE_SIZES:
        user = torch.randn(k, m, generator=generator, dtype=torch.float64)
        movies = torch.randn(k, n, generator=generator, dtype=torch.float64)
        bundle.meta["calls"].append({
            "args": [{"tensor": bundle.add_tensor("t", user), "dtype": dtype, "requires_grad": True},
                     {"tensor": bundle.add_tensor("t", movies), "dtype": dtype, "requires_grad": True}],
            "backward": True, "size": [k, m, n], "dtype": dtype,
        })
    return {records.ESTIMATE: bundle}


def _elementwise(record: Bundle, probe: Bundle, calls: list[dict[str, Any]]) -> bool:
    """Whether the square probe's result is an elementwise product of the factors."""
    call, outcome = probe.meta["calls"][-1], calls[-1]
    result = outcome.get("result")
    if outcome.get("error") or not result or result.get("kind") != "tensor":
        return False
    user, movies = _call_args(probe, call)
    out = tensor_of(result, record)
    return any(close(out, candidate) for candidate in (user * movies, user.T * movies, (user * movies).T))


def check_estimate(context: Context) -> None:
    """Task 4 (see the module docstring)."""
    record, calls = _outcomes(context, records.ESTIMATE, "estimate", "def estimate(user_factors, movies_factors)")
    probe = context.probes[records.ESTIMATE]
    for call, outcome in zip(probe.meta["calls"], calls):
        user, movies = _call_args(probe, call)
        k, m, n = call["size"]
        where = f"for user_factors of shape {(k, m)} and movies_factors of shape {(k, n)}"
        if outcome.get("error"):
            hint = ("estimate multiplies elementwise (*), which needs equal shapes and does not combine factors: "
                    "use the matrix product, user_factors.T @ movies_factors."
                    if _elementwise(record, probe, calls) else "Use the matrix product user_factors.T @ movies_factors.")
            _no_error(outcome, "estimate", where, hint, "mf-estimate")
        result = outcome["result"]
        require_tensor(result, f"the result {where}", "Return the tensor user_factors.T @ movies_factors.", "mf-estimate")
        shape = tuple(result["shape"])
        if shape != (m, n):
            if shape == (n, m):
                cause = "The result is transposed (movies x users): use user_factors.T @ movies_factors."
            elif shape == (k, k):
                cause = "user_factors @ movies_factors.T multiplies over users and movies: use user_factors.T @ movies_factors."
            else:
                cause = "Use the matrix product user_factors.T @ movies_factors."
            fail(f"expected shape (n_users, n_movies) = {(m, n)} {where}, got {shape}. {cause}", "mf-estimate")
        out = tensor_of(result, record)
        expected = user.T @ movies
        if not close(out, expected):
            if _elementwise(record, probe, calls):
                cause = "estimate multiplies elementwise (*): use the matrix product, user_factors.T @ movies_factors."
            elif close(out, minmax_to_range(expected)) or close(out, clip_to_range(expected)):
                cause = "estimate rescales its result: return the raw product; Task 5 (to_rating_range) does the rescaling."
            else:
                cause = ("Entry [u, i] must be the dot product of column u of user_factors and column i of "
                         "movies_factors: user_factors.T @ movies_factors.")
            fail(f"expected user_factors.T @ movies_factors {where}, got different values. {cause}", "mf-estimate")
        if not result["requires_grad"]:
            fail(f"expected a differentiable result {where}, but it has no gradient. Use torch operations only, "
                 "without .detach(), .data or .numpy(), so that training can update the factors.", "mf-estimate")
        grads = outcome.get("grads", {})
        expected_grads = (movies.sum(dim=1, keepdim=True).expand(k, m), user.sum(dim=1, keepdim=True).expand(k, n))
        for position, (name, wanted) in enumerate(zip(("user_factors", "movies_factors"), expected_grads)):
            grad = grads.get(str(position))
            if not grad or grad.get("kind") != "tensor" or not close(tensor_of(grad, record), wanted):
                fail(f"expected gradients to flow back to {name} {where}, but they do not (or are wrong). Use "
                     "torch operations on both arguments, without .detach() or .data.", "mf-estimate")
        _not_modified(outcome, ("user_factors", "movies_factors"), "estimate", where, "mf-estimate")


# --------------------------------------------------------------------------- Task 5

#: (rows, cols, kind, (low, high) or None for the defaults, dtype). "wide" spills beyond [low, high], "inside"
#: lies within it (so clipping and min-max differ), "constant" must map to the midpoint (odd sums included).
RANGE_CASES = (
    (3, 4, "wide", None, "float32"),
    (5, 2, "inside", None, "float32"),
    (4, 6, "wide", (0.0, 10.0), "float32"),
    (6, 6, "inside", (1.0, 5.0), "float64"),
    (2, 7, "wide", (-1.0, 1.0), "float32"),
    (3, 3, "constant", None, "float32"),
    (4, 2, "constant", (0.0, 10.0), "float32"),
    (2, 2, "constant", (1, 4), "float32"),
    (3, 5, "wide", (1, 4), "float32"),
)


def range_probe(generator: torch.Generator, sources: Mapping[str, str] | None = None) -> dict[str, Bundle]:
    """Matrices that spill beyond the range, lie inside it, or are constant; default and other ranges."""
    bundle = Bundle({"calls": []})
    for rows, cols, kind, bounds, dtype in RANGE_CASES:
        if kind == "constant":
            x = torch.full((rows, cols), 2.5 + float(torch.randint(0, 3, (1,), generator=generator)), dtype=torch.float64)
        elif kind == "inside":
            x = 1.5 + 3.0 * torch.rand(rows, cols, generator=generator, dtype=torch.float64)
        else:
            x = 2.0 + 4.0 * torch.randn(rows, cols, generator=generator, dtype=torch.float64)
        kwargs = {} if bounds is None else {"low": {"value": bounds[0]}, "high": {"value": bounds[1]}}
        bundle.meta["calls"].append({"args": [{"tensor": bundle.add_tensor("t", x), "dtype": dtype}], "kwargs": kwargs,
                                     "kind": kind, "size": [rows, cols], "dtype": dtype,
                                     "bounds": list(bounds) if bounds else None})
    return {records.TO_RATING_RANGE: bundle}


def _range_cause(out: torch.Tensor, x: torch.Tensor, kind: str, low: float, high: float, custom: bool) -> str:
    mid = (low + high) / 2
    if kind == "constant":
        if not torch.isfinite(out).all():
            return ("A constant matrix has max == min, so the division gives nan: when max == min, return a "
                    f"matrix filled with the midpoint (low + high) / 2 = {fmt(mid)}.")
        if close(out, torch.full_like(out, (low + high) // 2)):
            return (f"(low + high) // 2 rounds down: the midpoint of [{fmt(low)}, {fmt(high)}] is (low + high) / 2 "
                    f"= {fmt(mid)}.")
        return f"A constant matrix must map to the midpoint (low + high) / 2 = {fmt(mid)} everywhere."
    if close(out, clip_to_range(x, low, high)):
        return ("to_rating_range clips the values; this task asks for min-max rescaling, as the original "
                "notebook does: low + (high - low) * (x - min) / (max - min).")
    if custom and close(out, minmax_to_range(x)):
        return "to_rating_range ignores the low and high arguments (it always maps to [1, 5]): use low and high."
    if close(out, low + high - minmax_to_range(x, low, high)):
        return "The minimum must map to low and the maximum to high: use (x - min) / (max - min), not (max - x)."
    if close(out, low + high * (x - x.min()) / (x.max() - x.min())):
        return "Multiply by the width (high - low), not by high: low + (high - low) * (x - min) / (max - min)."
    if close(out, (x - x.min()) / (x.max() - x.min())):
        return "That is the min-max scaling into [0, 1]: map it into [low, high] with low + (high - low) * ..."
    return "Use min-max rescaling: low + (high - low) * (x - x.min()) / (x.max() - x.min())."


def check_to_rating_range(context: Context) -> None:
    """Task 5 (see the module docstring)."""
    record, calls = _outcomes(context, records.TO_RATING_RANGE, "to_rating_range",
                              "def to_rating_range(estimated, low=1.0, high=5.0)")
    probe = context.probes[records.TO_RATING_RANGE]
    for call, outcome in zip(probe.meta["calls"], calls):
        (x,) = _call_args(probe, call)
        if call["dtype"] == "float32":
            x = x.float().double()
        low, high = call["bounds"] or (1.0, 5.0)
        text = "to_rating_range(estimated" + (f", low={low!r}, high={high!r}" if call["bounds"] else "") + ")"
        rows, cols = call["size"]
        where = f"for {text} on a {call['kind'] if call['kind'] == 'constant' else 'random'} {rows}x{cols} {call['dtype']} matrix"
        _no_error(outcome, "to_rating_range", where, "Use torch operations on the tensor estimated.", "mf-range")
        result = outcome["result"]
        require_tensor(result, f"the result {where}", "Keep the result a tensor (no .numpy() or .tolist()).", "mf-range")
        if tuple(result["shape"]) != (rows, cols):
            fail(f"expected the input's shape {(rows, cols)} {where}, got {tuple(result['shape'])}. Rescale every "
                 "entry; do not reduce or reshape.", "mf-range")
        if not is_float_dtype(result):
            fail(f"expected floating-point values {where}, got dtype {result['dtype']}. Ratings such as 2.5 need "
                 "a float tensor: do not round or convert to integers.", "mf-range")
        if half_precision(result):
            fail(f"expected float32 or float64 values {where}, got dtype {result['dtype']} (half precision, which "
                 "rounds ratings). Task 5 allows float32 or float64: do not convert with .half() or to "
                 "bfloat16.", "mf-range")
        out = tensor_of(result, record)
        expected = minmax_to_range(x, float(low), float(high))
        if not close(out, expected):
            wanted = (f"every value {fmt((low + high) / 2)}" if call["kind"] == "constant"
                      else f"values from {fmt(low)} to {fmt(high)}, min-max rescaled")
            fail(f"expected {wanted} {where}, got {values_text(out)}. "
                 f"{_range_cause(out, x, call['kind'], float(low), float(high), bool(call['bounds']))}", "mf-range")
        _not_modified(outcome, ("estimated",), "to_rating_range", where, "mf-range")


# --------------------------------------------------------------------------- the registry


TASKS = (
    Task("task1-factors-test", TASK_FACTORS, check_factors, fresh_factors_probe, ("task1-factors",)),
    Task("task2-optimizer-test", TASK_OPTIMIZER, check_optimizer, solution_cells=("task2-optimizer",)),
    Task("task3-calc-loss-test", TASK_LOSS, check_calc_loss, loss_probe, ("task3-calc-loss",)),
    Task("task4-estimate-test", TASK_ESTIMATE, check_estimate, estimate_probe, ("task4-estimate",)),
    Task("training-test", TASK_TRAINING, check_training, solution_cells=("task1-factors", "task2-optimizer"),
         reference_cells=()),
    Task("task5-to-rating-range-test", TASK_RANGE, check_to_rating_range, range_probe, ("task5-to-rating-range",)),
)

__all__ = ["TASKS", "Failure", "replay_training", "notebook_matrices"]
