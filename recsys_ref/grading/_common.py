"""Helpers shared by the check functions: one message format, safe calls, plain tensors."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NoReturn

import torch

# Bound at import, before any student code runs in a grading kernel (recsys_ref.grading.guard
# imports this module first): replacing torch.allclose later does not change the checks.
_allclose = torch.allclose
_isfinite = torch.isfinite


def fail(task: str, message: str) -> NoReturn:
    """Raise the one :class:`AssertionError` a check reports.

    Args:
        task: Which task failed, e.g. ``"Task 3 (calc_loss)"``.
        message: What was expected, what was found and the likely cause, as
            full sentences.
    """
    # `from None`: the student sees one message, not a chain of tracebacks.
    raise AssertionError(f"{task}: {message}") from None


def fmt(value: float) -> str:
    """Format a number for a message: four significant digits, no exponent for ordinary sizes."""
    return f"{value:.4g}"


def describe_error(error: BaseException) -> str:
    """``"TypeError: message"`` for an exception raised by student code."""
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


def not_implemented_cause(error: BaseException) -> str | None:
    """The message for a student function that still raises ``NotImplementedError``, or ``None``."""
    if isinstance(error, NotImplementedError):
        return "It is not implemented yet: replace `raise NotImplementedError()` with your code."
    return None


def plain(tensor: torch.Tensor) -> torch.Tensor:
    """A detached float64 copy of a tensor, as a plain :class:`torch.Tensor`.

    The copy goes through NumPy, so whatever subclass or overridden ``__eq__``
    the original has, comparisons on the copy are real tensor comparisons.
    """
    return torch.from_numpy(tensor.detach().cpu().to(torch.float64).numpy().copy())


def is_tensor(value: Any) -> bool:
    """True for a real :class:`torch.Tensor` (or subclass such as ``nn.Parameter``)."""
    return isinstance(value, torch.Tensor)


def type_name(value: Any) -> str:
    """A short description of a value's type for messages, e.g. ``numpy.ndarray``."""
    kind = type(value)
    module = kind.__module__
    if module in ("builtins", "__main__"):
        return kind.__name__
    return f"{module.split('.')[0]}.{kind.__qualname__}"


def close(a: torch.Tensor, b: torch.Tensor, *, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    """``torch.allclose`` on plain float64 copies; False when shapes differ or a value is not finite."""
    a, b = plain(a), plain(b)
    if a.shape != b.shape:
        return False
    if not (_isfinite(a).all() and _isfinite(b).all()):
        return False
    return bool(_allclose(a, b, rtol=rtol, atol=atol))


def keep_global_rng(function: Callable) -> Callable:
    """Run a check without disturbing PyTorch's global random state.

    The checks build models and draw inputs; the notebook's later cells
    (training) must behave as if the check had not run.
    """

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with torch.random.fork_rng(devices=[]):
            return function(*args, **kwargs)

    return wrapper
