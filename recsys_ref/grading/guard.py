"""An IPython extension loaded into each grading kernel (`make grade` only): defence in depth.

Scores are decided by the grader outside the kernel, from the records the
hidden tests write (:mod:`recsys_ref.grading.exchange`), so nothing a cell
patches can change a score directly. The guard still keeps the recorders'
world intact and reports attempts: at kernel start (before any student code)
it imports the recorders and remembers the attributes they and the student's
code rely on: the modules of :mod:`recsys_ref.grading`, ``torch`` and
``torch.Tensor``, ``torch.nn``, ``torch.optim``, ``numpy``, ``builtins``, and
the IPython shell's error and display machinery. After every cell it puts
back whatever a cell replaced, and logs which cell ran and what it restored
(``records/events.jsonl`` in the exchange folder: a ``monkeypatch`` flag in
the grading report). It also logs threads a cell left running.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import threading

import recsys_ref.grading
from recsys_ref.grading.exchange import append_event

#: The kernel-side modules (derived from the package, so a new recorder is watched too) and the libraries.
WATCHED_MODULES = (
    "recsys_ref.grading",
    *sorted(f"recsys_ref.grading.{m.name}" for m in pkgutil.iter_modules(recsys_ref.grading.__path__) if m.name != "guard"),
    "torch", "torch.testing", "torch.nn", "torch.nn.functional", "torch.optim", "safetensors.torch",
    "numpy", "numpy.testing", "builtins", "json",
)
SHELL_ATTRIBUTES = (
    "showtraceback", "_showtraceback", "showsyntaxerror", "run_cell", "run_cell_async", "run_code",
    "run_ast_nodes", "transform_cell", "custom_exceptions", "CustomTB", "set_custom_exc", "ex",
)
#: Attributes that change legitimately during a session: IPython's builtin trap adds
#: get_ipython/input/display around each cell; torch._dynamo wraps torch.manual_seed when an
#: optimizer first imports it.
NOT_WATCHED = {
    "builtins": {"input", "get_ipython", "display", "exit", "quit", "_", "__", "___", "help",
                 "copyright", "credits", "license", "dreload", "__IPYTHON__", "runfile"},
    "torch": {"manual_seed"},
}
SHELL_LISTS = ("input_transformers_cleanup", "input_transformers_post", "ast_transformers")


_CURRENT: list = []


def _students(thread: threading.Thread) -> bool:
    """Whether a thread runs code from a notebook cell (not a thread of IPython, ipykernel or a library).

    The code a thread runs is its target's, looked for through a :class:`threading.Timer`'s function and
    :func:`functools.partial` wrappers, or its class's ``run`` method. A target without Python code (a builtin
    such as ``time.sleep``) counts as a cell's: libraries start threads on their own functions.
    """
    import functools

    target = thread.function if isinstance(thread, threading.Timer) else getattr(thread, "_target", None)
    while isinstance(target, functools.partial):
        target = target.func
    if target is None and type(thread).run is not threading.Thread.run:
        target = type(thread).run
    if target is None:
        return False
    code = getattr(target, "__code__", None) or getattr(getattr(target, "__func__", None), "__code__", None)
    if code is None:
        return True
    filename = code.co_filename or ""
    return filename.startswith("<") or "ipykernel_" in filename or filename.endswith(".ipynb")


def current() -> "Guard | None":
    """The guard of this kernel, if one was loaded (the recorders restore its snapshot before recording)."""
    return _CURRENT[0] if _CURRENT else None


def source_hash(source: str) -> str:
    """The short hash the log uses to name a cell's source."""
    import hashlib

    return hashlib.sha1(source.encode("utf-8")).hexdigest()[:16]


class Guard:
    """The snapshot and the hooks of one kernel."""

    def __init__(self, shell) -> None:
        self.shell = shell
        self.cell = 0
        self.current = ""
        self.modules = {}
        for name in WATCHED_MODULES:
            try:
                module = importlib.import_module(name)
            except Exception:  # noqa: BLE001 - an optional module
                continue
            self.modules[name] = (module, dict(vars(module)))
        import torch

        self.classes = [(cls, dict(vars(cls))) for cls in (torch.Tensor, torch.nn.Module, torch.optim.Optimizer)]
        self.shell_attrs = {name: shell.__dict__.get(name, _MISSING) for name in SHELL_ATTRIBUTES}
        self.shell_lists = {name: list(getattr(shell, name, [])) for name in SHELL_LISTS}
        self.sys_hooks = {name: getattr(sys, name) for name in ("displayhook", "excepthook")}
        self.callbacks = {event: list(shell.events.callbacks[event]) for event in ("pre_run_cell", "post_run_cell")}

        self.threads = {id(t) for t in threading.enumerate()}

    def write(self, record: dict) -> None:
        """Log one event (see :func:`recsys_ref.grading.exchange.append_event`)."""
        append_event(record)

    def pre_run_cell(self, info) -> None:
        restored = self.restore()  # also before each cell: a thread may have patched since the last one
        if restored:
            self.write({"event": "restored", "n": self.cell, "cell": self.current, "names": restored})
        self.cell += 1
        self.current = source_hash(info.raw_cell or "")
        self.write({"event": "cell", "n": self.cell, "cell": self.current})

    def post_run_cell(self, result) -> None:
        restored = self.restore()
        if restored:
            self.write({"event": "restored", "n": self.cell, "cell": self.current, "names": restored})
        threads = [t for t in threading.enumerate() if id(t) not in self.threads and t.is_alive() and _students(t)]
        if threads:
            self.threads.update(id(t) for t in threads)
            self.write({"event": "threads", "n": self.cell, "cell": self.current,
                        "names": [t.name for t in threads]})

    def restore(self) -> list[str]:
        """Put back every recorded attribute a cell replaced or deleted; returns their names."""
        restored = []
        for name, (module, saved) in self.modules.items():
            current = vars(module)
            skip = NOT_WATCHED.get(name, ())
            for key, value in saved.items():
                if key in skip or (key.startswith("__") and key not in ("__import__", "__build_class__")):
                    continue
                if current.get(key, _MISSING) is not value:
                    try:
                        setattr(module, key, value)
                        restored.append(f"{name}.{key}")
                    except Exception:  # noqa: BLE001
                        pass
        for cls, saved in self.classes:
            for key, value in saved.items():
                if key in ("__dict__", "__weakref__", "__doc__"):
                    continue
                if vars(cls).get(key, _MISSING) is not value:
                    try:
                        setattr(cls, key, value)
                        restored.append(f"{cls.__module__}.{cls.__qualname__}.{key}")
                    except Exception:  # noqa: BLE001
                        pass
        shell = self.shell
        for key, value in self.shell_attrs.items():
            if shell.__dict__.get(key, _MISSING) is not value:
                if value is _MISSING:
                    shell.__dict__.pop(key, None)
                else:
                    shell.__dict__[key] = value
                restored.append(f"IPython shell {key}")
        for key, value in self.shell_lists.items():
            current = getattr(shell, key, None)
            if current is None or list(current) != value:
                try:
                    current[:] = value
                except Exception:  # noqa: BLE001
                    setattr(shell, key, list(value))
                restored.append(f"IPython shell {key}")
        for key, value in self.sys_hooks.items():
            if getattr(sys, key) is not value:
                setattr(sys, key, value)
                restored.append(f"sys.{key}")
        for event, callbacks in self.callbacks.items():
            if shell.events.callbacks[event] != callbacks:
                shell.events.callbacks[event][:] = callbacks
                restored.append(f"IPython events {event}")
        return restored


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()


def load_ipython_extension(shell) -> None:
    """Install the guard (``--IPKernelApp.extensions=recsys_ref.grading.guard``)."""
    guard = Guard(shell)
    _CURRENT[:] = [guard]
    shell.events.register("pre_run_cell", guard.pre_run_cell)
    shell.events.register("post_run_cell", guard.post_run_cell)
    # The guard's own hooks belong to the callbacks it keeps in place.
    for event in guard.callbacks:
        guard.callbacks[event] = list(shell.events.callbacks[event])
    guard.write({"event": "start"})
