"""Checks of a submitted notebook against the released one, before nbgrader runs it (`make grade`).

nbgrader restores edited or deleted locked cells from its checksums, so it
never reports them; :func:`inspect_submission` compares the submission with
the released notebook first and returns *flags* (a kind and a reason, shown
in ``grading_report.csv``):

* ``broken-file``: not readable as a notebook (invalid JSON, empty, nbformat
  3, no cells, a notebook of another assignment): the submission scores 0;
* ``edited-locked-cell``, ``deleted-locked-cell``, ``changed-cell-type``,
  ``changed-grading-metadata``, ``duplicate-cell-id``, ``added-cell``: the
  structure was changed (nbgrader grades with the released cells anyway);
* ``monkeypatch``: a solution cell assigns to, deletes or ``setattr``-s
  attributes of ``recsys_ref``, ``torch``, ``numpy``, ``builtins``, ``sys``
  or ``IPython``, or reaches into the IPython shell (``get_ipython``); the
  cell is not run (its tasks score 0);
* ``reference-used``: a solution cell imports ``recsys_ref`` (the reference
  implementation and the checks) instead of writing the task; the cell is
  not run (its tasks score 0);
* ``file-or-process-access``: ``open`` of an absolute path or one with
  ``..``, ``os.system``, ``subprocess``, ``os.fork``, ``shutil`` deletions,
  ``multiprocessing``; ``stops-kernel``: ``os._exit``, ``os.kill``,
  ``sys.exit``, ``signal``: flagged only (the limits and the batch's
  recovery deal with the effect).

:func:`staged_notebook` returns the copy nbgrader grades: grading metadata
and cell types of the released cells put back, duplicate cells dropped and
the cells to skip replaced by one ``raise`` that says why.
"""

from __future__ import annotations

import ast
import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path

SENSITIVE_ROOTS = ("recsys_ref", "torch", "numpy", "builtins", "sys", "IPython", "nbgrader", "pandas", "importlib")
#: Names the released notebook binds to sensitive modules.
NOTEBOOK_ALIASES = {"torch": "torch", "np": "numpy", "numpy": "numpy", "pd": "pandas", "nn": "torch.nn",
                    "F": "torch.nn.functional", "optim": "torch.optim", "sys": "sys", "builtins": "builtins",
                    "__builtins__": "builtins", "recsys_ref": "recsys_ref"}
SKIPPED = {"monkeypatch", "reference-used"}
GRADING_KEYS = ("grade", "solution", "locked", "points", "grade_id")


@dataclass(frozen=True)
class Flag:
    """One suspicious finding: its kind, the cell, and a reason in words."""

    kind: str
    cell: str
    reason: str

    def __str__(self) -> str:
        return f"{self.kind} ({self.cell}): {self.reason}" if self.cell else f"{self.kind}: {self.reason}"


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return source if isinstance(source, str) else "".join(source)


def _meta(cell: dict) -> dict:
    meta = cell.get("metadata", {})
    return meta.get("nbgrader", {}) if isinstance(meta, dict) and isinstance(meta.get("nbgrader", {}), dict) else {}


def _normal(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def read_notebook(path: Path) -> tuple[dict | None, str]:
    """The notebook at ``path`` as JSON, or ``(None, reason)`` when it is not a usable nbformat-4 notebook."""
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        return None, f"cannot be read ({error.strerror})"
    if not raw.strip():
        return None, "the file is empty"
    try:
        nb = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return None, f"not valid JSON ({str(error).splitlines()[0]}): the file is damaged or not a notebook"
    if not isinstance(nb, dict):
        return None, "not a notebook (the JSON is not an object)"
    if nb.get("nbformat") != 4:
        return None, (f"saved in notebook format {nb.get('nbformat')!r}, not 4: open it in a current Jupyter, "
                      "save, and submit again")
    if not isinstance(nb.get("cells"), list) or not all(isinstance(c, dict) for c in nb["cells"]):
        return None, "not a notebook (no list of cells)"
    return nb, ""


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
    """``torch.testing.assert_close`` for an attribute chain rooted at a known module alias, else None."""
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


def scan_source(source: str, cell: str) -> list[Flag]:
    """Flags for one solution cell's code (see the module docstring)."""
    flags: list[Flag] = []
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    try:
        tree = ast.parse(code)
    except SyntaxError:
        tree = None
    if tree is not None:
        names = _aliases(tree)
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, (ast.Assign, ast.Delete)):
                targets = node.targets
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                targets = [node.target]
            for target in targets:
                for sub in (target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target]):
                    if isinstance(sub, (ast.Attribute, ast.Subscript)):
                        base = sub.value if isinstance(sub, ast.Subscript) else sub
                        name = _dotted(base, names)
                        if _sensitive(name) and "." in name:
                            flags.append(Flag("monkeypatch", cell, f"replaces {name}"))
            if isinstance(node, ast.Call):
                func = _dotted(node.func, names) or (node.func.id if isinstance(node.func, ast.Name) else "")
                if func in ("setattr", "delattr", "builtins.setattr", "builtins.delattr") and node.args:
                    target = _dotted(node.args[0], names)
                    if _sensitive(target) or target is None:
                        flags.append(Flag("monkeypatch", cell, f"{func}() on {target or ast.unparse(node.args[0])}"))
                if func == "get_ipython" or (func or "").startswith("IPython shell"):
                    flags.append(Flag("monkeypatch", cell, "reaches into the IPython shell (get_ipython)"))
                if func in ("os.system", "os.popen", "os.fork", "os.forkpty", "os.spawnv", "os.execv", "os.execvp",
                            "shutil.rmtree", "os.remove", "os.unlink") or (func or "").startswith(("subprocess.", "multiprocessing.")):
                    flags.append(Flag("file-or-process-access", cell, f"calls {func}"))
                if func in ("os._exit", "os.kill", "os.abort", "sys.exit", "exit", "quit", "os.killpg") or (func or "").startswith("signal."):
                    flags.append(Flag("stops-kernel", cell, f"calls {func}"))
                if func in ("open", "io.open", "pathlib.Path", "Path", "os.listdir", "os.scandir", "glob.glob") and node.args:
                    first = node.args[0]
                    if isinstance(first, ast.Constant) and isinstance(first.value, str) and (
                            first.value.startswith(("/", "~")) or ".." in first.value):
                        flags.append(Flag("file-or-process-access", cell, f"{func}({first.value!r}) outside the submission"))
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                for module in modules:
                    if module.split(".")[0] == "recsys_ref" and module != "recsys_ref.data":
                        flags.append(Flag("reference-used", cell, f"imports {module} (the reference implementation and the checks)"))
                    if isinstance(node, ast.ImportFrom) and module == "recsys_ref":
                        flags.append(Flag("reference-used", cell, "imports from recsys_ref"))
                    if module.split(".")[0] in ("builtins", "importlib", "ctypes"):
                        flags.append(Flag("monkeypatch", cell, f"imports {module}"))
                    if module.split(".")[0] in ("subprocess", "multiprocessing"):
                        flags.append(Flag("file-or-process-access", cell, f"imports {module}"))
            if isinstance(node, ast.Name) and node.id in ("__builtins__", "globals") and isinstance(node.ctx, ast.Load):
                if node.id == "__builtins__":
                    flags.append(Flag("monkeypatch", cell, "uses __builtins__"))
    for pattern, kind, reason in (
        (r"recsys_ref\s*\.\s*(mf|nn|grading|baselines|metrics|paradigms)\b", "reference-used", "uses recsys_ref.{0}"),
        (r"sys\s*\.\s*modules", "monkeypatch", "touches sys.modules"),
        (r"\bexec\s*\(|\beval\s*\(|__import__\s*\(", "monkeypatch", "runs code from strings (exec/eval/__import__)"),
    ):
        match = re.search(pattern, source)
        if match:
            flags.append(Flag(kind, cell, reason.format(*match.groups())))
    unique = list(dict.fromkeys(flags))
    return unique


@dataclass
class Inspection:
    """What :func:`inspect_submission` found."""

    notebook: dict | None
    broken: str
    flags: list[Flag]
    skip: dict[str, str]  # solution cell id -> why it is not run


def inspect_submission(path: Path, release_nb: dict) -> Inspection:
    """Read a submission and compare it with the released notebook: flags, and the solution cells not to run."""
    nb, broken = read_notebook(path)
    if nb is None:
        return Inspection(None, broken, [Flag("broken-file", "", broken)], {})
    released = {_meta(c).get("grade_id"): c for c in release_nb["cells"] if _meta(c).get("grade_id")}
    submitted_ids = [_meta(c).get("grade_id") for c in nb["cells"]]
    if released and len(set(released) & set(i for i in submitted_ids if i)) * 2 < len(released):
        reason = ("most of this assignment's cells are missing: a notebook of another assignment, "
                  "or not the released notebook")
        return Inspection(None, reason, [Flag("broken-file", "", reason)], {})
    flags: list[Flag] = []
    seen: dict[str, int] = {}
    for cell in nb["cells"]:
        gid = _meta(cell).get("grade_id")
        cid = cell.get("id")
        for key in (gid, cid and f"id:{cid}"):
            if key:
                seen[key] = seen.get(key, 0) + 1
    for key, count in seen.items():
        if count > 1:
            flags.append(Flag("duplicate-cell-id", key.removeprefix("id:"), f"{count} cells share this id"))
    present = {}
    for cell in nb["cells"]:
        gid = _meta(cell).get("grade_id")
        if gid and gid not in present:
            present[gid] = cell
    for gid, original in released.items():
        meta = _meta(original)
        mine = present.get(gid)
        if mine is None:
            if meta.get("locked") or meta.get("grade"):
                flags.append(Flag("deleted-locked-cell", gid, "a provided or test cell was deleted"))
            continue
        if mine.get("cell_type") != original.get("cell_type"):
            flags.append(Flag("changed-cell-type", gid, f"{original.get('cell_type')} cell turned into {mine.get('cell_type')}"))
        if any(_meta(mine).get(k) != meta.get(k) for k in GRADING_KEYS):
            flags.append(Flag("changed-grading-metadata", gid, "its nbgrader metadata (points, lock, grade) was edited"))
        if meta.get("locked") and not meta.get("solution") and _normal(_source(mine)) != _normal(_source(original)):
            flags.append(Flag("edited-locked-cell", gid, "a provided or test cell was edited"))
    skip: dict[str, str] = {}
    for index, cell in enumerate(nb["cells"]):
        gid = _meta(cell).get("grade_id")
        original = released.get(gid)
        if gid and original is not None and not _meta(original).get("solution"):
            continue  # a released locked cell: nbgrader puts the original back
        if original is None:
            flags.append(Flag("added-cell", gid or f"cell {index + 1}", f"a {cell.get('cell_type')} cell not in the released notebook"))
        if cell.get("cell_type") != "code":
            continue
        name = gid or f"cell {index + 1}"
        found = scan_source(_source(cell), name)
        flags.extend(found)
        reasons = [f.reason for f in found if f.kind in SKIPPED]
        if reasons:
            skip[name] = "; ".join(dict.fromkeys(reasons))
    return Inspection(nb, "", list(dict.fromkeys(flags)), skip)


def skipped_source(reason: str) -> str:
    """The code that replaces a cell the grader does not run."""
    return f"raise RuntimeError({('Not graded: this cell was not run because it ' + reason + '. See the grading report.')!r})"


def staged_notebook(nb: dict, release_nb: dict, skip: dict[str, str]) -> dict:
    """The copy nbgrader grades: released grading metadata and cell types back, duplicates and added
    grading metadata dropped, skipped cells replaced (``skip``: cell id or ``cell <n>`` -> reason)."""
    nb = copy.deepcopy(nb)
    released = {_meta(c).get("grade_id"): c for c in release_nb["cells"] if _meta(c).get("grade_id")}
    cells, seen_gids, seen_ids = [], set(), set()
    for index, cell in enumerate(nb["cells"]):
        gid = _meta(cell).get("grade_id")
        name = gid or f"cell {index + 1}"
        if gid and gid in seen_gids:
            continue  # a duplicated graded cell: the first copy is graded
        if gid:
            seen_gids.add(gid)
        original = released.get(gid)
        if original is not None:
            cell["metadata"] = dict(cell.get("metadata") or {})
            cell["metadata"]["nbgrader"] = copy.deepcopy(original["metadata"]["nbgrader"])
            if cell.get("cell_type") != original.get("cell_type"):
                cell = copy.deepcopy(original)
        elif gid or "nbgrader" in (cell.get("metadata") or {}):
            cell.setdefault("metadata", {}).pop("nbgrader", None)
        if cell.get("id") in seen_ids or not isinstance(cell.get("id"), str):
            cell.pop("id", None)
        else:
            seen_ids.add(cell["id"])
        if name in skip and cell.get("cell_type") == "code":
            cell["source"] = skipped_source(skip[name])
            cell["outputs"] = []
        cells.append(cell)
    nb["cells"] = cells
    if nb.get("nbformat_minor", 0) >= 5:
        import uuid

        for cell in nb["cells"]:
            cell.setdefault("id", uuid.uuid5(uuid.NAMESPACE_URL, _source(cell)[:200] + str(len(cells))).hex[:16])
    return nb


def solution_cell_before(nb: dict, reference_nbs: list[dict], cell_hash: str, source_hash) -> str | None:
    """The solution cell to skip when the cell with ``cell_hash`` stopped the kernel: that cell if it is a
    solution or added cell, else the nearest solution cell before the locked cell that ran (its code ran there).

    ``reference_nbs``: the released notebook and the instructor's (whose test cells, with the hidden
    tests, are the ones nbgrader runs).
    """
    locked = {}
    for ref in reference_nbs:
        for c in ref["cells"]:
            if _meta(c).get("locked") and not _meta(c).get("solution"):
                locked[source_hash(_source(c))] = _meta(c).get("grade_id")
    released = {_meta(c).get("grade_id"): c for c in reference_nbs[0]["cells"] if _meta(c).get("grade_id")}
    names = []
    for index, cell in enumerate(nb["cells"]):
        gid = _meta(cell).get("grade_id")
        name = gid or f"cell {index + 1}"
        original = released.get(gid)
        is_student = cell.get("cell_type") == "code" and (original is None or _meta(original).get("solution"))
        if is_student and source_hash(_source(cell)) == cell_hash:
            return name
        if is_student:
            names.append(name)
        if gid and locked.get(cell_hash) == gid:
            return names[-1] if names else None
    return None
