"""Scores decided outside the student's process: probes out, records in, checks, gradebook.

:func:`write_probes` writes each task's inputs into a submission's exchange
folder before its notebook runs; after it ran, :func:`read_records` reads
what the hidden tests recorded and :func:`score` runs the checks of
:mod:`grader.checks` in notebook order. :func:`store` writes the scores into
the (scratch) gradebook, where nbgrader's feedback and export read them, and
each task's verdict into its test cell's output, where the student reads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from grader import notebooks as nbs
from grader.checks import BOOK_SECTIONS, Context, Failure, seed_for, tasks
from recsys_ref.grading.exchange import PROBES, Bundle, read_bundle, write_bundle


def solution_sources(notebooks: Mapping[str, Any]) -> dict[str, str]:
    """Solution cell grade id -> the student's code, over a submission's notebooks."""
    sources = {}
    for nb in notebooks.values():
        for cell in nb.cells:
            if nbs.is_solution(cell) and cell.cell_type == "code":
                sources[nbs.grade_id(cell)] = nbs.source(cell)
    return sources


def build_probes(assignment: str, student: str, notebooks: Mapping[str, Any]) -> dict[str, Bundle]:
    """Every task's probes for this student (reproducible: seeded by assignment, student and task)."""
    sources = solution_sources(notebooks)
    probes: dict[str, Bundle] = {}
    for task in tasks(assignment):
        generator = torch.Generator().manual_seed(seed_for(assignment, student, task.grade_id))
        probes.update(task.probes(generator, sources))
    return probes


def write_probes(assignment: str, student: str, notebooks: Mapping[str, Any], exchange: Path) -> dict[str, Bundle]:
    """:func:`build_probes`, written into ``exchange/probes``; returns them."""
    probes = build_probes(assignment, student, notebooks)
    for key, bundle in probes.items():
        write_bundle(exchange / PROBES, key, bundle)
    return probes


def read_records(folder: Path) -> dict[str, Bundle | None]:
    """Every record in ``folder`` (the records the test cells wrote; a damaged record reads as missing)."""
    records: dict[str, Bundle | None] = {}
    for path in sorted(folder.glob("*.json")):
        try:
            records[path.stem] = read_bundle(folder, path.stem)
        except ValueError:
            records[path.stem] = None
    return records


def book_reference(key: str | None, book_url: str) -> str:
    """``See the book: <section> (<link>).`` for a failure's book section, or nothing."""
    if not key or key not in BOOK_SECTIONS:
        return ""
    page, label, title = BOOK_SECTIONS[key]
    if book_url:
        return f" See the book: {title}, {book_url.rstrip('/')}/book/{page}.html#{label}"
    return f" See the book: {title}."


def cell_errors(nb: Any, *, test_cells: bool = False) -> dict[str, str]:
    """Answer cell grade id -> the error it raised when the notebook ran (``Name: message``), from an executed notebook.

    With ``test_cells``: the same for the graded test cells (read before :func:`store` replaces their outputs).
    """
    errors = {}
    for cell in nb.cells:
        wanted = nbs.is_grade(cell) and not nbs.is_solution(cell) if test_cells else nbs.is_solution(cell)
        if wanted and cell.cell_type == "code":
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error" and output.get("ename") != "NotImplementedError":
                    errors[nbs.grade_id(cell)] = f"{output.get('ename')}: {str(output.get('evalue', '')).strip()[:200]}"
                    break
    return errors


def score(assignment: str, records: Mapping[str, Bundle | None], probes: Mapping[str, Bundle],
          reference_cells: Mapping[str, str], settings: Mapping[str, Any], max_scores: Mapping[str, float] | None = None,
          errors: Mapping[str, str] | None = None, test_errors: Mapping[str, str] | None = None):
    """Run the checks in notebook order; one :class:`~grader.autograde.TaskResult` per task.

    Args:
        reference_cells: Solution cell -> why its code counts as the reference implementation's (a task
            graded from such a cell scores 0, whatever its records say).
        max_scores: Grade id -> points (from the gradebook); 1 when missing.
        errors: Answer cell -> the error it raised when the notebook ran (:func:`cell_errors`): a lost task's
            message says so, the most useful fact when the answer was never defined.
        test_errors: Test cell -> the error that ended it (:func:`cell_errors` with ``test_cells=True``): a
            record missing because the cell hit the time limit is said so.
    """
    from grader.autograde import TaskResult

    context = Context(records, probes, test_errors=dict(test_errors or {}))
    results = []
    for task in tasks(assignment):
        points = float((max_scores or {}).get(task.grade_id, 1.0))
        context.notes = []
        context.task = task.grade_id
        charged = task.solution_cells if task.reference_cells is None else task.reference_cells
        used = [cell for cell in charged if cell in reference_cells]
        try:
            if used:
                raise Failure(f"your code for this task ({used[0]}) {reference_cells[used[0]]}: the task asks you to "
                              "write it yourself, so it earns no points.")
            try:
                task.check(context)
            except Failure:
                raise
            except Exception as error:  # noqa: BLE001 - a damaged or forged record must not stop the batch
                raise Failure(f"the grader could not read what this test recorded ({type(error).__name__}: {error}): "
                              "the record was damaged, or written by something other than the test, so the task "
                              "earns no points.") from None
        except Failure as failure:
            context.verdicts[task.grade_id] = False
            raised = [f"its cell {cell} raised {(errors or {})[cell].rstrip('.')}" for cell in task.solution_cells
                      if cell in (errors or {})]
            note = f" While grading, {'; '.join(raised)}." if raised else ""
            message = (f"{task.title}: {failure.message}{note}"
                       f"{book_reference(failure.book, settings.get('book_url', ''))}")
            results.append(TaskResult(task.grade_id, task.title, 0.0, points, message, failure.book,
                                      list(dict.fromkeys(context.notes))))
            continue
        context.verdicts[task.grade_id] = True
        results.append(TaskResult(task.grade_id, task.title, points, points, "", None, list(dict.fromkeys(context.notes))))
    return results


def store(root: Path, job, results) -> None:
    """Write the scores into the scratch gradebook and each verdict into its test cell's output.

    The max scores come from the gradebook (the release's points), so the
    results are completed with them here.
    """
    from nbgrader.api import Gradebook

    folder = root / "autograded" / job.student / job.assignment
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "recsys") as gradebook:
        by_id = {}
        for name in job.notebooks:
            notebook = gradebook.find_submission_notebook(Path(name).stem, job.assignment, job.student)
            for grade in notebook.grades:
                by_id[grade.name] = grade
        for result in results:
            grade = by_id.get(result.grade_id)
            if grade is None:
                continue
            points = float(grade.max_score or 0.0)
            result.score = points if result.score > 0 else 0.0
            result.max_score = points
            grade.auto_score = result.score
            grade.manual_score = None
            grade.needs_manual_grade = False
        gradebook.db.commit()
    verdicts = {r.grade_id: r for r in results}
    for name in job.notebooks:
        path = folder / name
        nb = nbs.read_notebook(path)[0]
        for cell in nb.cells:
            result = verdicts.get(nbs.grade_id(cell))
            if result is None or cell.cell_type != "code":
                continue
            cell.outputs = [verdict_output(result)]
        nbs.write_notebook(nb, path)


def verdict_output(result) -> Any:
    """The output a test cell shows in the feedback: the score and what to fix, or the score and notes."""
    from nbformat.v4 import new_output

    points = f"{result.score:g}/{result.max_score:g}"
    if result.message:
        return new_output("error", ename=f"Lost points ({points})", evalue=result.message,
                          traceback=[f"Lost points ({points}): {result.message}"])
    text = f"{result.title}: {points}, passed the grader's tests."
    if result.notes:
        text += "\n" + "\n".join(result.notes)
    return new_output("stream", name="stdout", text=text + "\n")
