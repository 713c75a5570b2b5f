"""What every check shares: the task registry types, failures, reading records, comparing values.

A *check* reads the records a submission's hidden tests wrote in the grading
kernel (:mod:`recsys_ref.grading.exchange`) and the probes the grader wrote
for it, compares them with the reference implementation, and either returns
(the task earns its points) or raises :class:`Failure` with one message that
names what was expected, what was found and the likely cause, and points to
the book section that explains the mistake. Checks never run student code.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

import torch

from recsys_ref.grading.exchange import Bundle

#: Book sections the feedback points to: key -> (page, MyST label, what the section is called).
#: tests/book checks that every label exists in book/.
BOOK_SECTIONS: dict[str, tuple[str, str, str]] = {
    "mf-factors": ("matrix_factorization", "mf-latent-factors", "Matrix factorization: the latent factors"),
    "mf-optimizer": ("matrix_factorization", "mf-training-loop", "Matrix factorization: the training loop"),
    "mf-loss": ("matrix_factorization", "mf-bug-loss-all-cells", "Matrix factorization: the loss over every cell"),
    "mf-zero-grad": ("matrix_factorization", "mf-bug-zero-grad", "Matrix factorization: gradients that accumulate"),
    "mf-estimate": ("matrix_factorization", "mf-latent-factors", "Matrix factorization: the latent factors"),
    "mf-range": ("matrix_factorization", "mf-bug-minmax", "Matrix factorization: min-max rescaling"),
    "deep-registration": ("recommender_net", "net-bug-plain-list", "RecommenderNet: layers in a plain list"),
    "deep-architecture": ("recommender_net", "net-architecture", "RecommenderNet: the architecture"),
    "deep-dropout": ("recommender_net", "net-dropout", "RecommenderNet: dropout in training and evaluation"),
    "deep-output-range": ("recommender_net", "net-output-range", "RecommenderNet: the output range"),
    "rank-interactions": ("implicit_feedback", "implicit-interactions", "Ranking: from ratings to interactions"),
    "rank-sampling": ("implicit_feedback", "implicit-negative-sampling", "Ranking: negative sampling"),
    "rank-bpr": ("implicit_feedback", "implicit-bpr", "Ranking: the BPR criterion"),
    "rank-model": ("implicit_feedback", "implicit-bpr", "Ranking: the BPR criterion"),
    "rank-top-k": ("implicit_feedback", "implicit-full-ranking", "Ranking: full ranking over unseen items"),
    "rank-metrics": ("evaluation", "eval-ranking-metrics", "Evaluating recommenders: ranking metrics"),
}


class Failure(Exception):
    """A task's check failed: ``message`` says what to fix; ``book`` is a key of :data:`BOOK_SECTIONS`."""

    def __init__(self, message: str, book: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.book = book


def fail(message: str, book: str | None = None) -> NoReturn:
    """Raise :class:`Failure`."""
    raise Failure(message, book)


@dataclass
class Context:
    """Everything a check may read.

    Attributes:
        records: Record key -> the kernel's record (``None`` when the hidden test did not run or wrote nothing).
        probes: Record key -> the probe the grader wrote.
        data: Shared, lazily loaded data of the assignment (e.g. the training matrix for a replay).
        verdicts: Grade id -> whether that task passed (checks run in notebook order).
        notes: What the feedback should say besides pass/fail (filled by checks).
        test_errors: Test cell grade id -> the error that ended it when the notebook ran (``Name: message``, as
            :func:`grader.scoring.cell_errors` gives an answer cell's), read before the verdicts replace the test
            cells' outputs. Empty when the caller does not give them.
        task: The grade id of the test cell being checked (set by the caller before each check; ``""``: unknown).
    """

    records: Mapping[str, Bundle | None]
    probes: Mapping[str, Bundle]
    data: Any = None
    verdicts: dict[str, bool] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    test_errors: Mapping[str, str] = field(default_factory=dict)
    task: str = ""

    def stopped_at_time_limit(self) -> bool:
        """Whether the current task's test cell was interrupted at the cell time limit (nbclient interrupts the
        kernel: the cell ends with ``KeyboardInterrupt``; ``CellTimeoutError`` when it could not)."""
        return self.test_errors.get(self.task, "").split(":", 1)[0].strip() in TIME_LIMIT_ERRORS

    def record(self, key: str, what: str) -> Bundle:
        """The record ``key``, or a failure saying the hidden test never recorded ``what``."""
        bundle = self.records.get(key)
        if bundle is None and key in self.records:
            fail(f"the grader could not trust the record of {what}: it was damaged, changed after the test wrote "
                 "it, or written by something other than the test (see the grading report's flags), so the task "
                 "earns no points.")
        if bundle is None and self.stopped_at_time_limit():
            fail(f"the grader found no record of {what}: the test cell was stopped at the time limit while it "
                 f"ran your code for {what} (on the notebook's examples or the grader's inputs), so it never "
                 "finished. Make your code end quickly on any input: no endless loop, sleep or waiting for input, "
                 "and no Python loop over every entry of a large matrix (use torch operations).")
        if bundle is None:
            fail(f"the grader found no record of {what}: the test cell did not run to its end (the notebook "
                 "stopped earlier, or an earlier cell broke the kernel). See the cell outputs above it.")
        return bundle


#: The errors a test cell ends with when the grader stopped it at the cell time limit.
TIME_LIMIT_ERRORS = ("KeyboardInterrupt", "CellTimeoutError")


@dataclass(frozen=True)
class Task:
    """One graded task: the test cell it scores and how.

    Attributes:
        grade_id: The nbgrader ``grade_id`` of the task's test cell.
        title: How messages name it, e.g. ``"Task 3 (calc_loss)"``.
        check: ``check(context)``: returns when the task passes, raises :class:`Failure` otherwise.
        probes: ``probes(generator, sources) -> {record key: Bundle}``: the inputs for the hidden test, fresh
            per submission; ``sources`` maps the submission's solution cells (grade id) to their code.
        solution_cells: The grade ids of the solution cells whose code the task grades (for flags).
        reference_cells: The solution cells whose use of the reference implementation costs this task its points
            (``None``: :attr:`solution_cells`; mf's Training point grades the student's own pieces as they are,
            so a reference import in Task 1's cell costs Task 1 only).
    """

    grade_id: str
    title: str
    check: Callable[[Context], None]
    probes: Callable[[torch.Generator, Mapping[str, str]], dict[str, Bundle]] = lambda generator, sources: {}
    solution_cells: tuple[str, ...] = ()
    reference_cells: tuple[str, ...] | None = None


def seed_for(*parts: str) -> int:
    """A reproducible 63-bit seed from strings (assignment, student, task): regrading gives the same probes."""
    digest = hashlib.sha256("/".join(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def fmt(value: float) -> str:
    """Four significant digits, for messages."""
    return f"{value:.4g}"


def tensor_of(encoded: Mapping[str, Any], bundle: Bundle) -> torch.Tensor:
    """The stored values of an encoded tensor or array (float64 or int64)."""
    return bundle.tensors[encoded["tensor"]]


def error_text(encoded: Mapping[str, Any]) -> str:
    """``"ValueError: message"`` for an encoded exception."""
    return f"{encoded['type']}: {encoded['message']}" if encoded.get("message") else encoded["type"]


def not_implemented(encoded: Mapping[str, Any] | None) -> bool:
    """Whether an encoded exception is the release stub's ``NotImplementedError``."""
    return bool(encoded) and encoded.get("type") == "NotImplementedError"


STUB_HINT = "It is not implemented yet: replace `raise NotImplementedError()` with your code."

#: Types that count as a tensor (a Parameter is a tensor).
TENSOR_TYPES = ("torch.Tensor", "torch.nn.Parameter")


def require_tensor(encoded: Mapping[str, Any] | None, what: str, hint: str, book: str | None = None) -> None:
    """Fail unless ``encoded`` describes a real torch tensor."""
    if not encoded or encoded.get("kind") != "tensor" or encoded.get("type") not in TENSOR_TYPES:
        found = "nothing" if not encoded or encoded.get("kind") == "none" else f"a {encoded.get('type')}"
        fail(f"expected {what} to be a torch.Tensor, got {found}. {hint}", book)


def is_float_dtype(encoded: Mapping[str, Any]) -> bool:
    """Whether an encoded tensor holds floating-point numbers (float16/32/64, bfloat16)."""
    return str(encoded.get("dtype", "")).replace("torch.", "") in ("float16", "bfloat16", "float32", "float64")


#: The floating-point dtypes a task that says "float32 or float64" accepts (not float16/bfloat16: half precision
#: loses the digits the checks compare, and the task texts exclude it).
SINGLE_OR_DOUBLE = ("float32", "float64")


def half_precision(encoded: Mapping[str, Any]) -> str:
    """The dtype's name (``float16``, ``bfloat16``) when an encoded tensor holds half-precision floats, else ``""``."""
    name = str(encoded.get("dtype", "")).replace("torch.", "")
    return name if is_float_dtype(encoded) and name not in SINGLE_OR_DOUBLE else ""


def close(a: torch.Tensor, b: torch.Tensor, *, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    """Same shape, all finite, and equal within tolerance (on float64 copies)."""
    a, b = a.to(torch.float64), b.to(torch.float64)
    if a.shape != b.shape or not (torch.isfinite(a).all() and torch.isfinite(b).all()):
        return False
    return bool(torch.allclose(a, b, rtol=rtol, atol=atol))


def values_text(values: torch.Tensor) -> str:
    """``values from 1 to 5`` or ``nan or inf values``, for messages."""
    values = values.to(torch.float64)
    if values.numel() == 0:
        return "no values"
    if not torch.isfinite(values).all():
        return "nan or inf values"
    low, high = float(values.min()), float(values.max())
    return f"the value {fmt(low)}" if math.isclose(low, high) and values.numel() == 1 else f"values from {fmt(low)} to {fmt(high)}"
