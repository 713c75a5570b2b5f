"""What a student's code cells do that an instructor should know about, read from their syntax tree.

:func:`scan_code` parses a cell (IPython's shell and magic lines first
turned into the Python IPython runs) and reports *flags*: a kind, the cell
and a reason. Comments, strings and docstrings are not code, so mentioning
``recsys_ref.mf`` in a comment flags nothing. Flags are for the
instructor's review: they never change a score, with one exception decided
by what the code *does*: a task whose solution cell calls the reference
implementation of a graded task (imports or names one of
:data:`REFERENCE_MODULES`, or a piece of one that another module of
``recsys_ref`` re-exports) earns no points, because the task asks the
student to write that code (:func:`reference_use`). The rest of
``recsys_ref`` is the course's tooling, which the provided cells import
themselves: ``recsys_ref.data``, ``recsys_ref.grading``, the training loops
of ``recsys_ref.training``, ``recsys_ref.metrics.rmse``...

Kinds:

* ``reference-used``: imports or calls the reference implementation of a graded task
  (:data:`REFERENCE_MODULES`);
* ``monkeypatch``: assigns to, deletes or ``setattr``-s attributes of ``recsys_ref``, ``torch``,
  ``numpy``, ``builtins``, ``sys``, ``IPython``..., reaches into the IPython shell, touches
  ``sys.modules``, runs code from strings (``exec``/``eval``), imports ``ctypes``, ``gc``,
  ``inspect`` or ``importlib``;
* ``file-or-process-access``: opens absolute or ``..`` paths, runs processes (``os.system``,
  ``subprocess``, ``multiprocessing``, ``os.fork``), deletes files, opens sockets;
* ``stops-kernel``: ``os._exit``, ``sys.exit``, ``os.kill``, ``signal``;
* ``thread``: starts threads;
* ``shell-command``: IPython shell lines (``!cmd``, ``%pip``, ``%%bash``...): not run while grading
  (see :func:`grader.staging.neutralise_shell`).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

SENSITIVE_ROOTS = ("recsys_ref", "torch", "numpy", "builtins", "sys", "IPython", "nbgrader", "pandas", "importlib",
                   "grader", "safetensors", "json")
#: Names the released notebooks bind to modules.
NOTEBOOK_ALIASES = {"torch": "torch", "np": "numpy", "numpy": "numpy", "pd": "pandas", "nn": "torch.nn",
                    "F": "torch.nn.functional", "optim": "torch.optim", "sys": "sys", "builtins": "builtins",
                    "__builtins__": "builtins", "recsys_ref": "recsys_ref", "os": "os"}
#: The modules that hold the reference implementations of the graded tasks: ``mf`` (factors, loss, estimate,
#: rescaling, training), ``deep`` (RecommenderNet), ``rank`` (interactions, negatives, BPR loss and model, top-K,
#: the ranking metrics), and the original notebook's code (its RecommenderNet and dense MF).
REFERENCE_MODULES = ("recsys_ref.mf", "recsys_ref.nn", "recsys_ref.implicit", "recsys_ref.ranking",
                     "recsys_ref.metrics.ranking", "original_notebook")
PROCESS_CALLS = ("os.system", "os.popen", "os.fork", "os.forkpty", "os.spawnv", "os.spawnvp", "os.execv", "os.execvp",
                 "os.execl", "os.posix_spawn", "pty.spawn", "socket.socket", "socket.create_connection",
                 "urllib.request.urlopen", "shutil.rmtree", "os.remove", "os.unlink", "os.rmdir")
STOP_CALLS = ("os._exit", "os.kill", "os.abort", "sys.exit", "exit", "quit", "os.killpg")
#: Magics that act outside Python (run processes, write files, change the working folder).
SHELL_MAGICS = (r"pip|conda|mamba|system|sx|sh|bash|script|run|cd|env|writefile|capture|store|load|save|bookmark|"
                r"alias|rm|mkdir|cp|mv|ls|cat|perl|ruby|html|javascript|js")
#: Lines IPython would run as shell commands or magics that act outside Python (``%matplotlib``, ``%time``... are fine).
SHELL_LINE = re.compile(r"^\s*(!|%%?(pip|conda|mamba|system|sx|sh|bash|script|run|cd|env|writefile|capture|store|"
                        r"load|save|bookmark|alias|rm|mkdir|cp|mv|ls|cat)\b)")
CELL_MAGIC_SHELL = re.compile(r"^\s*%%(bash|sh|script|system|writefile|capture|html|javascript|js|perl|ruby)\b")


@dataclass(frozen=True)
class Flag:
    """One finding for the instructor: its kind, the cell, and a reason in words."""

    kind: str
    cell: str
    reason: str

    def __str__(self) -> str:
        return f"{self.kind} ({self.cell}): {self.reason}" if self.cell else f"{self.kind}: {self.reason}"


def python_source(source: str) -> str:
    """The cell as Python: IPython's shell lines and magics turned into the calls IPython makes."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 - an unusual cell: parse it as it is
        return source


NOT_RUN = "# not run while grading: "


def neutralise_shell(source: str) -> tuple[str, bool]:
    """Comment out IPython shell lines and shell cell magics; returns the new source and whether anything changed."""
    if CELL_MAGIC_SHELL.match(source):
        return "\n".join(NOT_RUN + line for line in source.splitlines()), True
    changed = False
    lines = []
    for line in source.splitlines():
        if SHELL_LINE.match(line):
            indent = line[: len(line) - len(line.lstrip())]
            lines.append(f"{indent}{NOT_RUN}{line.lstrip()}")
            changed = True
        else:
            lines.append(line)
    return "\n".join(lines), changed


def _aliases(tree: ast.AST) -> dict[str, str]:
    names = dict(NOTEBOOK_ALIASES)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _dotted(node: ast.AST, names: dict[str, str]) -> str | None:
    """``torch.testing.assert_close`` for an attribute chain rooted at a known name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id in names:
        return ".".join([names[node.id], *reversed(parts)])
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "get_ipython":
        return ".".join(["IPython shell", *reversed(parts)])
    return None


def _sensitive(name: str | None) -> bool:
    return bool(name) and name.split(".")[0] in SENSITIVE_ROOTS + ("IPython shell",)


def _in_reference(module: str) -> str | None:
    return next((ref for ref in REFERENCE_MODULES if module == ref or module.startswith(ref + ".")), None)


def _reference_module(name: str) -> str | None:
    """What of the graded tasks' reference the dotted ``name`` (a module, or a module's attribute) is, or None.

    A name inside :data:`REFERENCE_MODULES` is; so is a piece another module of ``recsys_ref`` re-exports from
    one (``recsys_ref.metrics.recall_at_k``, ``recsys_ref.nn_training.RecommenderNet``), found by importing that
    module of the course's own package (never any other).
    """
    reference = _in_reference(name)
    if reference:
        return reference
    parts = name.split(".")
    if parts[0] != "recsys_ref" or any(not part.isidentifier() or part.startswith("_") for part in parts):
        return None  # private modules (``__main__``...) are never imported here
    import importlib
    import sys

    for i in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:i])
        try:
            module = sys.modules.get(module_name) or importlib.import_module(module_name)
        except Exception:  # noqa: BLE001, S112 - no such module: try a shorter prefix
            continue
        value = getattr(module, parts[i], None)
        origin = getattr(value, "__name__", "") if isinstance(value, type(sys)) else getattr(value, "__module__", "")
        return f"{module_name}.{parts[i]}" if isinstance(origin, str) and _in_reference(origin) else None
    return None


def _constant_string(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def scan_code(source: str, cell: str) -> list[Flag]:
    """Flags for one cell of student code (see the module docstring)."""
    flags: list[Flag] = []
    code, shell = neutralise_shell(source)
    if shell:
        flags.append(Flag("shell-command", cell, "runs shell commands or installs packages (!..., %pip...): "
                                                 "not run while grading"))
    try:
        tree = ast.parse(python_source(code))
    except SyntaxError:
        return flags
    names = _aliases(tree)
    # get_ipython() as the receiver of what IPython's own syntax turns into (!cmd, %magic): not a monkeypatch.
    ipython_syntax = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Attribute)
                      and node.attr in ("system", "getoutput", "run_line_magic", "run_cell_magic")
                      and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name)
                      and node.value.func.id == "get_ipython"}
    for node in ast.walk(tree):
        if id(node) in ipython_syntax:
            continue
        targets = []
        if isinstance(node, (ast.Assign, ast.Delete)):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for target in targets:
            for sub in (target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target]):
                if isinstance(sub, (ast.Attribute, ast.Subscript)):
                    name = _dotted(sub.value if isinstance(sub, ast.Subscript) else sub, names)
                    if _sensitive(name) and "." in name:
                        flags.append(Flag("monkeypatch", cell, f"replaces {name}"))
                    elif name and name.startswith("sys.modules"):
                        flags.append(Flag("monkeypatch", cell, "touches sys.modules"))
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            imported = modules if isinstance(node, ast.Import) or node.level else (
                [node.module] if _in_reference(node.module or "") else [f"{node.module}.{a.name}" for a in node.names])
            for name in imported:
                if _reference_module(name):
                    flags.append(Flag("reference-used", cell, f"imports {name} (the reference implementation)"))
            for module in modules:
                root = module.split(".")[0]
                if root in ("builtins", "importlib", "ctypes", "gc", "inspect"):
                    flags.append(Flag("monkeypatch", cell, f"imports {module}"))
                if root in ("subprocess", "multiprocessing", "socket", "pty", "urllib", "requests", "http"):
                    flags.append(Flag("file-or-process-access", cell, f"imports {module}"))
                if root in ("threading", "_thread", "concurrent"):
                    flags.append(Flag("thread", cell, f"imports {module}"))
                if root == "signal":
                    flags.append(Flag("stops-kernel", cell, "imports signal"))
        if isinstance(node, ast.Attribute):
            name = _dotted(node, names)
            used = _reference_module(name) if name and name.split(".")[0] in ("recsys_ref", "original_notebook") else None
            if used:
                flags.append(Flag("reference-used", cell, f"uses {used} (the reference implementation)"))
        if isinstance(node, ast.Call):
            func = _dotted(node.func, names) or (node.func.id if isinstance(node.func, ast.Name) else "")
            first = node.args[0] if node.args else None
            if func in ("setattr", "delattr") and first is not None:
                target = _dotted(first, names)
                if _sensitive(target):
                    flags.append(Flag("monkeypatch", cell, f"{func}() on {target}"))
                elif target is None and not isinstance(first, ast.Name):  # self.x, a local object: the student's own
                    flags.append(Flag("monkeypatch", cell, f"{func}() on {ast.unparse(first)}"))
            if func in ("IPython shell.system", "IPython shell.getoutput"):
                flags.append(Flag("shell-command", cell, "runs shell commands (!...)"))
            elif func in ("IPython shell.run_line_magic", "IPython shell.run_cell_magic"):
                magic = _constant_string(first) or ""
                if re.fullmatch(SHELL_MAGICS, magic):
                    flags.append(Flag("shell-command", cell, f"runs the %{magic} magic"))
            elif func == "get_ipython" or (func or "").startswith("IPython shell"):
                flags.append(Flag("monkeypatch", cell, "reaches into the IPython shell (get_ipython)"))
            if func in ("exec", "eval", "compile", "__import__"):
                flags.append(Flag("monkeypatch", cell, f"runs code from strings ({func})"))
            if func in ("__import__", "importlib.import_module") and _reference_module(_constant_string(first) or ""):
                flags.append(Flag("reference-used", cell, f"imports {_constant_string(first)} (the reference "
                                                           "implementation)"))
            if func in PROCESS_CALLS or (func or "").startswith(("subprocess.", "multiprocessing.")):
                flags.append(Flag("file-or-process-access", cell, f"calls {func}"))
            if func in STOP_CALLS or (func or "").startswith("signal."):
                flags.append(Flag("stops-kernel", cell, f"calls {func}"))
            if func in ("threading.Thread", "_thread.start_new_thread"):
                flags.append(Flag("thread", cell, "starts a thread"))
            if func in ("open", "io.open", "pathlib.Path", "Path", "os.listdir", "os.scandir", "glob.glob",
                        "sqlite3.connect") and first is not None:
                text = _constant_string(first)
                if text is not None and (text.startswith(("/", "~")) or ".." in text or func == "sqlite3.connect"):
                    flags.append(Flag("file-or-process-access", cell, f"{func}({text!r}) outside the submission"))
            if func in ("input", "builtins.input"):
                flags.append(Flag("asks-for-input", cell, "calls input(), which has no one to answer while grading"))
        if isinstance(node, ast.Name) and node.id == "__builtins__" and isinstance(node.ctx, ast.Load):
            flags.append(Flag("monkeypatch", cell, "uses __builtins__"))
        if isinstance(node, ast.Attribute) and node.attr in ("__globals__", "__closure__", "f_globals", "f_back",
                                                             "__subclasses__", "__code__"):
            flags.append(Flag("monkeypatch", cell, f"reads {node.attr} (reaches into other code's internals)"))
    return list(dict.fromkeys(flags))


def reference_use(flags: list[Flag]) -> dict[str, str]:
    """Solution cell -> what of the reference it uses, from the ``reference-used`` flags."""
    used: dict[str, str] = {}
    for flag in flags:
        if flag.kind == "reference-used" and flag.cell not in used:
            used[flag.cell] = flag.reason.replace(" (the reference implementation)", "") + ", the reference implementation"
    return used
