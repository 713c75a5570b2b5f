"""What the hidden tests of the assignment ``mf`` record in the student's kernel.

Each ``record_*`` function is one hidden test: it runs the student's piece on
the grader's probe (fresh inputs, see :mod:`recsys_ref.grading.exchange`) and
writes what happened. It decides nothing; the grader's checks
(``grader/checks/mf.py``) compare the record with :mod:`recsys_ref.mf` and
give the score and the message. Outside grading (no exchange folder) the
functions do nothing, so the instructor's notebook runs top to bottom.
"""

from __future__ import annotations

from typing import Any

import torch

from recsys_ref.grading.exchange import Bundle, exchange_dir, read_probe, write_record
from recsys_ref.grading.recording import encode, isolated, keep_global_rng, record_calls, type_name

FACTORS = "mf.factors"
OPTIMIZER = "mf.optimizer"
CALC_LOSS = "mf.calc_loss"
ESTIMATE = "mf.estimate"
TO_RATING_RANGE = "mf.to_rating_range"
#: Fresh factors the grader provides for a submission whose Task 1 factors are unusable.
FRESH_FACTORS = "mf.fresh_factors"

_Optimizer = torch.optim.Optimizer
_TensorBase = torch._C.TensorBase
_isinstance, _issubclass, _type = isinstance, issubclass, type


def _grading() -> bool:
    return exchange_dir() is not None


def _role(tensor: Any, user_factors: Any, movies_factors: Any) -> str | None:
    if tensor is user_factors:
        return "user_factors"
    if tensor is movies_factors:
        return "movies_factors"
    return None


@isolated
@keep_global_rng
def record_factors(user_factors: Any, movies_factors: Any) -> None:
    """Task 1: record the two factor tensors (values, dtype, shape, gradient facts)."""
    if not _grading():
        return
    bundle = Bundle({"same_object": user_factors is movies_factors})
    bundle.meta["user_factors"] = encode(user_factors, bundle)
    bundle.meta["movies_factors"] = encode(movies_factors, bundle)
    write_record(FACTORS, bundle)


def _hyperparameters(mapping: Any) -> dict[str, Any]:
    """The JSON-able settings of an optimizer (numbers, bools, None, tuples of numbers)."""
    settings = {}
    for key, value in dict(mapping).items():
        if key == "params":
            continue
        if _isinstance(value, (bool, int, float, str)) or value is None:
            settings[str(key)] = value
        elif _isinstance(value, (tuple, list)) and all(_isinstance(v, (int, float)) for v in value):
            settings[str(key)] = list(value)
        elif _isinstance(value, _TensorBase) and value.numel() == 1:
            settings[str(key)] = float(value)
        else:
            settings[str(key)] = {"unsupported": type_name(value)}
    return settings


@isolated
@keep_global_rng
def record_optimizer(optimizer: Any, user_factors: Any, movies_factors: Any) -> None:
    """Task 2: record the optimizer's class, settings and which tensors each group holds."""
    if not _grading():
        return
    kind = optimizer if _isinstance(optimizer, type) else _type(optimizer)
    meta: dict[str, Any] = {
        "defined": optimizer is not None,
        "is_class": _isinstance(optimizer, type),
        "type": type_name(optimizer),
        "class": f"{kind.__module__}.{kind.__qualname__}",
        "is_optimizer": _isinstance(optimizer, _Optimizer),
        "is_optimizer_class": _isinstance(optimizer, type) and _issubclass(optimizer, _Optimizer),
        "mro": [f"{c.__module__}.{c.__qualname__}" for c in kind.__mro__],
        "groups": [],
    }
    bundle = Bundle(meta)
    if meta["is_optimizer"]:
        meta["defaults"] = _hyperparameters(optimizer.defaults)
        for group in optimizer.param_groups:
            params = []
            for p in group.get("params", []):
                role = _role(p, user_factors, movies_factors)
                params.append({"role": role} if role else encode(p, bundle))
            meta["groups"].append({"params": params, "settings": _hyperparameters(group)})
    write_record(OPTIMIZER, bundle)


@isolated
@keep_global_rng
def record_calc_loss(calc_loss: Any) -> None:
    """Task 3: run ``calc_loss(true_r, est_r, exist)`` on the grader's examples, with gradients."""
    if _grading():
        write_record(CALC_LOSS, record_calls(calc_loss, read_probe(CALC_LOSS), name="calc_loss"))


@isolated
@keep_global_rng
def record_estimate(estimate: Any) -> None:
    """Task 4: run ``estimate(user_factors, movies_factors)`` on the grader's factor tensors."""
    if _grading():
        write_record(ESTIMATE, record_calls(estimate, read_probe(ESTIMATE), name="estimate"))


@isolated
@keep_global_rng
def record_to_rating_range(to_rating_range: Any) -> None:
    """Task 5: run ``to_rating_range(estimated, low, high)`` on the grader's matrices and ranges."""
    if _grading():
        write_record(TO_RATING_RANGE, record_calls(to_rating_range, read_probe(TO_RATING_RANGE), name="to_rating_range"))
