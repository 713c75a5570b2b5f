"""Building students' notebooks from the current release, and grading them fast, in-process.

Fixtures are generated at test time from the current ``solutions/`` and
``exercises/`` (the release changes; no filled copies are stored):

* :func:`solution_code`: each answer cell's code as the instructor wrote it (the
  ``### BEGIN/END SOLUTION`` lines removed);
* :func:`submission`: the released notebook with the answer cells filled in,
  optionally with some cells replaced or edited (:func:`edit`);
* :func:`grade_in_process`: runs the *instructor's* notebook (with the hidden
  tests) in this process, with given answer code, exactly as the grading
  kernel would (``NBGRADER_EXECUTION=autograde``, the probes in an exchange
  folder), then scores the records with the grader's checks. No kernel, no
  sandbox, no nbgrader: it tests the recorders, the checks and the notebooks'
  code together in about a second. The real path (``make grade``) is tested
  by ``tests/pipeline``.
"""

from __future__ import annotations

import contextlib
import copy
import io
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import nbformat

from grader import notebooks as nbs
from grader import scoring

REPO = Path(__file__).resolve().parent.parent
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
NOTEBOOKS = {"mf": "mf.ipynb", "deep": "deep.ipynb", "rank": "rank.ipynb"}


def solution_notebook(assignment: str) -> nbformat.NotebookNode:
    return nbformat.read(REPO / "solutions" / assignment / NOTEBOOKS[assignment], as_version=4)


def release_notebook(assignment: str) -> nbformat.NotebookNode:
    return nbformat.read(REPO / "exercises" / assignment / NOTEBOOKS[assignment], as_version=4)


def solution_code(assignment: str) -> dict[str, str]:
    """Answer cell grade id -> the instructor's code without the solution markers."""
    code = {}
    for cell in solution_notebook(assignment).cells:
        if nbs.is_solution(cell):
            lines = [line for line in nbs.source(cell).split("\n") if line.strip() not in MARKERS]
            code[nbs.grade_id(cell)] = "\n".join(lines)
    return code


def edit(code: Mapping[str, str], cell: str, old: str, new: str) -> dict[str, str]:
    """``code`` with ``old`` replaced by ``new`` in one answer cell; ``old`` must occur exactly once."""
    code = dict(code)
    count = code[cell].count(old)
    assert count == 1, f"expected the text once in {cell}, found it {count} times: {old!r}"
    code[cell] = code[cell].replace(old, new)
    return code


def submission(assignment: str, code: Mapping[str, str] | None = None) -> nbformat.NotebookNode:
    """The released notebook with every answer cell filled (the instructor's code, or ``code``)."""
    nb = copy.deepcopy(release_notebook(assignment))
    answers = {**solution_code(assignment), **(code or {})}
    for cell in nb.cells:
        if nbs.is_solution(cell):
            cell.source = answers[nbs.grade_id(cell)]
    return nb


def run_notebook(assignment: str, code: Mapping[str, str], exchange: Path) -> dict[str, str]:
    """Execute the instructor's notebook with ``code`` in its answer cells, while grading; cell -> error text."""
    from recsys_ref.grading.exchange import EXCHANGE_ENV

    namespace: dict = {"__name__": "__main__"}
    errors = {}
    with mock.patch.dict(os.environ, {EXCHANGE_ENV: str(exchange), "NBGRADER_EXECUTION": "autograde"}), \
            contextlib.redirect_stdout(io.StringIO()):
        for index, cell in enumerate(solution_notebook(assignment).cells):
            if cell.cell_type != "code":
                continue
            gid = nbs.grade_id(cell) or f"cell {index + 1}"
            text = code.get(gid, nbs.source(cell)) if nbs.is_solution(cell) else nbs.source(cell)
            try:
                exec(compile(text, gid, "exec"), namespace)  # noqa: S102 - the point of the helper
            except BaseException as error:  # noqa: BLE001 - SystemExit too, as a kernel would
                errors[gid] = f"{type(error).__name__}: {error}"
    return errors


def grade_in_process(assignment: str, code: Mapping[str, str] | None = None, *, student: str = "in-process",
                     tmp: Path) -> dict[str, object]:
    """Grade answer code fast (see the module docstring): grade id -> :class:`grader.autograde.TaskResult`."""
    import torch

    answers = {**solution_code(assignment), **(code or {})}
    exchange = tmp / f"exchange-{student}"
    (exchange / "records").mkdir(parents=True, exist_ok=True)
    nb = submission(assignment, answers)
    probes = scoring.write_probes(assignment, student, {"nb": nb}, exchange)
    with torch.random.fork_rng(devices=[]):
        run_notebook(assignment, answers, exchange)
    records = scoring.read_records(exchange / "records")
    points = dict(nbs.graded_cells(nb))
    results = scoring.score(assignment, records, probes, {}, {}, points)
    for result in results:  # as grader.scoring.store does with the gradebook's points
        result.max_score = points[result.grade_id]
        result.score = result.max_score if result.score > 0 else 0.0
    return {r.grade_id: r for r in results}


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    """One student's notebook with a known expected grade.

    Attributes:
        name: Also the student id when the case is graded in a batch (letters, digits, '-').
        assignment: ``mf``, ``deep`` or ``rank``.
        what: The case in words (shown when it fails).
        code: Answer cell grade id -> code, replacing the instructor's.
        edits: ``(answer cell, old text, new text)`` applied to the instructor's code; each old text must occur once.
        wrap: Turns the filled notebook into what the student hands in: a notebook, or ``bytes`` for a raw file
            (a damaged file, another tool's format).
        expected: Grade id -> expected score, for every task not at full points (``{}``: full marks).
        message: A fragment the lost task's message must contain (where points are lost).
        flags: Flag kinds the grading report must show for this submission.
        absent_flags: Flag kinds it must not show (e.g. no ``reference-used`` for a comment).
        in_process: Also graded by :func:`grade_in_process` (False when the case needs a real kernel, a
            sandbox or the staging of a real file).
    """

    name: str
    assignment: str
    what: str
    code: Mapping[str, str] = field(default_factory=dict)
    edits: tuple[tuple[str, str, str], ...] = ()
    wrap: Callable[[nbformat.NotebookNode], nbformat.NotebookNode | bytes] | None = None
    expected: Mapping[str, float] = field(default_factory=dict)
    message: str = ""
    flags: tuple[str, ...] = ()
    absent_flags: tuple[str, ...] = ()
    in_process: bool = True

    def answers(self) -> dict[str, str]:
        """The answer cells' code: the instructor's, with this case's replacements and edits."""
        code = {**solution_code(self.assignment), **self.code}
        for cell, old, new in self.edits:
            code = edit(code, cell, old, new)
        return code

    def handed_in(self) -> nbformat.NotebookNode | bytes:
        """What the student hands in."""
        nb = submission(self.assignment, self.answers())
        return self.wrap(nb) if self.wrap else nb

    def expected_scores(self) -> dict[str, float]:
        """Every graded cell's expected score."""
        return {gid: float(self.expected.get(gid, points)) for gid, points in nbs.graded_cells(release_notebook(self.assignment))}


def write_case(case: Case, submitted: Path) -> Path:
    """Write what the case hands in to ``submitted/<name>/<assignment>/<notebook>``."""
    path = submitted / case.name / case.assignment / NOTEBOOKS[case.assignment]
    path.parent.mkdir(parents=True, exist_ok=True)
    content = case.handed_in()
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(nbformat.writes(content), encoding="utf-8")
    return path
