"""Running a student's function on a probe and describing what came back, as data.

The recorders of :mod:`recsys_ref.grading.mf`, :mod:`~recsys_ref.grading.deep`
and :mod:`~recsys_ref.grading.rank` are built from these pieces. They never
judge: every value is described (type, dtype, shape, gradient facts, the
values themselves as float64 or int64 copies) and the grader decides.

Encodings (JSON, in a record's ``meta``; tensors go to the bundle):

* a tensor: ``{"kind": "tensor", "type": "torch.Tensor", "tensor": <name>,
  "dtype": "torch.float32", "shape": [...], "requires_grad": ..., "has_grad_fn": ...,
  "is_leaf": ..., "device": "cpu"}``;
* a NumPy array: ``{"kind": "array", "type": "numpy.ndarray", "tensor": <name>, "dtype": ..., "shape": [...]}``;
* a Python number or bool: ``{"kind": "number", "type": "float", "value": ...}``;
* a list or tuple: ``{"kind": "sequence", "type": "list", "items": [...]}`` (first 10,000 items);
* ``None``: ``{"kind": "none"}``; anything else: ``{"kind": "other", "type": ..., "repr": ...}``;
* an exception: ``{"kind": "error", "type": "ValueError", "message": <first line>}``.
"""

from __future__ import annotations

import functools
import math
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

from recsys_ref.grading.exchange import Bundle

# Bound at import (before student code runs): later monkeypatching of these names
# in torch or builtins does not change what is recorded.
_Tensor = torch.Tensor
_TensorBase = torch._C.TensorBase
_detach = _TensorBase.detach
_clone = _TensorBase.clone
_to = _TensorBase.to
_equal = torch.equal
_isinstance, _type, _len, _repr, _str = isinstance, type, len, repr, str
_perf_counter = time.perf_counter
_no_subclass_overrides = torch._C.DisableTorchFunctionSubclass
_Parameter = torch.nn.Parameter
# The facts of a tensor read through torch's own C-level descriptors: a subclass's Python
# properties (an ``is_leaf`` that always says True) are not consulted.
_FACTS = {name: getattr(_TensorBase, name).__get__ for name in
          ("is_leaf", "requires_grad", "grad_fn", "dtype", "shape", "device")}
_fork, _exit, _waitpid, _kill, _open_fd, _dup2 = os.fork, os._exit, os.waitpid, os.kill, os.open, os.dup2


_SIGSTOP, _SIGCONT = signal.SIGSTOP, signal.SIGCONT


def _signal_all(signum: int) -> None:
    """Send ``signum`` to every process this one may signal but itself and init (none there: no error)."""
    try:
        _kill(-1, signum)
    except ProcessLookupError:
        pass

MAX_ITEMS = 10_000


def type_name(value: Any) -> str:
    """``torch.Tensor``, ``numpy.ndarray``, ``float``, ``mymodule.Thing``: a value's type for messages.

    ``torch.Tensor`` and ``torch.nn.Parameter`` are given only to those very classes (by identity, not by
    name): a subclass is named as one, whatever its ``__module__`` says.
    """
    kind = _type(value)
    if kind is _Tensor:
        return "torch.Tensor"
    if kind is _Parameter:
        return "torch.nn.Parameter"
    module = _str(getattr(kind, "__module__", "") or "")
    name = _str(getattr(kind, "__qualname__", getattr(kind, "__name__", "?")))
    text = name if module in ("builtins", "__main__", "") else f"{module.split('.')[0]}.{name}"
    return f"{text} (a subclass of torch.Tensor)" if _isinstance(value, _TensorBase) else text


def describe_error(error: BaseException) -> dict[str, Any]:
    """An exception as data: its type and the first line of its message."""
    try:
        text = _str(error).strip().splitlines()
    except Exception:  # noqa: BLE001 - a student's exception whose __str__ raises
        text = []
    return {"kind": "error", "type": _type(error).__name__, "message": (text[0] if text else "")[:500]}


def plain_copy(tensor: torch.Tensor) -> torch.Tensor:
    """A detached CPU copy as a plain tensor: float64 for floats, int64 for integers, bool for bools."""
    with _no_subclass_overrides():
        value = _detach(tensor)
        if value.is_complex():
            value = value.real
        if value.dtype == torch.bool:
            return _clone(_to(value, "cpu")).as_subclass(_Tensor)
        dtype = torch.float64 if value.is_floating_point() else torch.int64
        return _clone(_to(_to(value, "cpu"), dtype)).as_subclass(_Tensor)


def encode(value: Any, bundle: Bundle, *, depth: int = 0) -> dict[str, Any]:
    """Describe ``value`` (see the module docstring), adding its tensors to ``bundle``."""
    if _isinstance(value, _TensorBase):
        with _no_subclass_overrides():
            facts = {
                "kind": "tensor",
                "type": type_name(value),
                "dtype": _str(_FACTS["dtype"](value)),
                "shape": [int(n) for n in _FACTS["shape"](value)],
                "requires_grad": bool(_FACTS["requires_grad"](value)),
                "has_grad_fn": _FACTS["grad_fn"](value) is not None,
                "is_leaf": bool(_FACTS["is_leaf"](value)),
                "device": _str(_FACTS["device"](value)),
            }
        facts["tensor"] = bundle.add_tensor("v", plain_copy(value))
        return facts
    if _isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        array = np.array(value, copy=True)
        stored = torch.from_numpy(array.astype(np.float64 if array.dtype.kind == "f" else (bool if array.dtype.kind == "b" else np.int64)))
        return {"kind": "array", "type": "numpy.ndarray", "dtype": _str(value.dtype),
                "shape": [int(n) for n in value.shape], "tensor": bundle.add_tensor("v", stored)}
    if _isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
        number = value.item() if _isinstance(value, np.generic) else value
        if _isinstance(number, float) and not math.isfinite(number):
            number = _str(number)  # JSON has no nan/inf
        return {"kind": "number", "type": type_name(value), "value": number}
    if value is None:
        return {"kind": "none"}
    if _isinstance(value, (list, tuple)) and depth < 3:
        items = list(value)[:MAX_ITEMS]
        return {"kind": "sequence", "type": type_name(value), "length": _len(value),
                "items": [encode(item, bundle, depth=depth + 1) for item in items]}
    try:
        text = _repr(value)[:200]
    except Exception:  # noqa: BLE001
        text = "<repr failed>"
    return {"kind": "other", "type": type_name(value), "repr": text}


def decode_input(spec: Any, probe: Bundle) -> Any:
    """An input from a probe: ``{"tensor": name, "requires_grad": bool}``, ``{"value": x}``,
    ``{"generator": seed}``, ``{"frame": {column: tensor name}}`` or ``{"list": [...]}``."""
    if _isinstance(spec, Mapping):
        if "tensor" in spec:
            tensor = _clone(probe.tensors[spec["tensor"]])
            if spec.get("dtype"):
                tensor = _to(tensor, getattr(torch, spec["dtype"]))
            if spec.get("requires_grad"):
                tensor.requires_grad_()
            return tensor
        if "value" in spec:
            return spec["value"]
        if "generator" in spec:
            return torch.Generator().manual_seed(int(spec["generator"]))
        if "frame" in spec:
            import pandas as pd

            return pd.DataFrame({column: probe.tensors[name].numpy().copy() for column, name in spec["frame"].items()})
        if "list" in spec:
            return [decode_input(item, probe) for item in spec["list"]]
    raise ValueError(f"not a probe input: {spec!r}")


def _snapshot(inputs: list[Any]) -> list[torch.Tensor | None]:
    return [plain_copy(x) if _isinstance(x, _TensorBase) else None for x in inputs]


def record_call(function: Callable, call: Mapping[str, Any], probe: Bundle, bundle: Bundle) -> dict[str, Any]:
    """Run ``function`` on one probe call and describe the outcome.

    ``call``: ``{"args": [input specs], "kwargs": {name: input spec},
    "backward": bool}``. With ``backward``, a scalar tensor result is
    back-propagated and the gradients of the inputs that require grad are
    recorded under ``"grads"`` (argument position -> encoding).

    Returns:
        ``{"result": ..., "error": ..., "modified": [positions of tensor
        arguments changed in place], "grads": {...}, "seconds": ...}``.
    """
    args = [decode_input(spec, probe) for spec in call.get("args", [])]
    kwargs = {name: decode_input(spec, probe) for name, spec in call.get("kwargs", {}).items()}
    before = _snapshot(args)
    outcome: dict[str, Any] = {"result": None, "error": None, "modified": [], "grads": {}}
    start = _perf_counter()
    try:
        result = function(*args, **kwargs)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # noqa: BLE001 - SystemExit too: it is the student's answer
        outcome["error"] = describe_error(error)
        outcome["seconds"] = _perf_counter() - start
        return outcome
    outcome["seconds"] = _perf_counter() - start
    try:
        outcome["result"] = encode(result, bundle)
    except Exception as error:  # noqa: BLE001
        outcome["error"] = describe_error(error)
        return outcome
    after = _snapshot(args)
    outcome["modified"] = [
        i for i, (old, new) in enumerate(zip(before, after))
        if old is not None and (old.shape != new.shape or not _equal(old, new))
    ]
    if call.get("backward") and _isinstance(result, _TensorBase):
        try:
            with _no_subclass_overrides():
                if result.requires_grad:
                    result.sum().backward()
            for i, x in enumerate(args):
                if _isinstance(x, _TensorBase) and x.requires_grad:
                    outcome["grads"][str(i)] = encode(x.grad, bundle) if x.grad is not None else {"kind": "none"}
        except Exception as error:  # noqa: BLE001
            outcome["backward_error"] = describe_error(error)
    return outcome


def keep_global_rng(function: Callable) -> Callable:
    """Run a recorder without disturbing PyTorch's global random state.

    The recorders seed torch before each call; the notebook's later cells must
    behave as if the hidden test had not run.
    """

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with torch.random.fork_rng(devices=[]):
            return function(*args, **kwargs)

    return wrapper


def isolated(recorder: Callable) -> Callable:
    """Take a record in a forked child process, where no thread of the student's code runs.

    While grading, the kernel forks; the child puts back every attribute the
    kernel guard remembered at start-up (:mod:`recsys_ref.grading.guard`),
    silences output, runs ``recorder`` and exits; the parent waits for it.
    A background thread that keeps re-patching the recorders does not exist
    in the child, whatever it does to the kernel meanwhile. In the sandbox
    (its own PID namespace) the child also stops every other process of the
    sandbox, the kernel included, until its record is written and sealed
    (:mod:`recsys_ref.grading.exchange`): no thread or process of the
    student's runs meanwhile. Outside grading, or where ``fork`` does not
    exist, the recorder runs in place.

    Raises:
        RuntimeError: In the kernel, when the child could not write its record (the test cell then shows
            an error, and the grader scores what it lacks).
    """

    @functools.wraps(recorder)
    def wrapper(*args, **kwargs):
        from recsys_ref.grading.exchange import exchange_dir, seal_settings

        if exchange_dir() is None or not hasattr(os, "fork"):
            return recorder(*args, **kwargs)
        pid = _fork()
        if pid == 0:  # the child: one thread, ours
            status, stopped = 3, False
            try:
                from recsys_ref.grading import guard

                current = guard.current()
                if current is not None:  # first: what the student's code patched in the kernel's memory
                    current.restore()
                if (seal_settings() or {}).get("stop_others"):
                    # every process of the sandbox but this one and its init (kill(2) with -1)
                    stopped = True
                    _signal_all(_SIGSTOP)
                null = _open_fd(os.devnull, os.O_WRONLY)
                _dup2(null, 1)
                _dup2(null, 2)
                sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - the child exits below
                recorder(*args, **kwargs)
                status = 0
            except BaseException:  # noqa: BLE001 - the parent reports a missing record
                status = 4
            finally:
                if stopped:
                    _signal_all(_SIGCONT)
                _exit(status)
        try:
            _, status = _waitpid(pid, 0)
        except BaseException:  # an interrupt (the cell's time limit): stop the child too
            try:
                _kill(pid, 9)
                _waitpid(pid, 0)
            except OSError:
                pass
            raise
        if status != 0:
            raise RuntimeError(f"the grader's recorder could not record this test (status {status}): see the "
                               "grading report")
        return None

    return wrapper


def record_calls(function: Any, probe: Bundle, *, name: str) -> Bundle:
    """Run ``function`` on every call of ``probe.meta["calls"]``; the record's meta holds one outcome per call.

    A ``function`` that is missing (``None``) or not callable is recorded as such, without calls.
    """
    bundle = Bundle({"name": name, "defined": function is not None, "callable": callable(function),
                     "type": type_name(function), "calls": []})
    if not callable(function):
        return bundle
    for call in probe.meta.get("calls", []):
        torch.manual_seed(int(call.get("seed", 0)))
        bundle.meta["calls"].append(record_call(function, call, probe, bundle))
    return bundle
