"""Per-student, per-task scores from an nbgrader course: read, print, write.

After ``nbgrader autograde``, the gradebook (``gradebook.db``) holds one
score per graded cell (task) of every submission. :func:`collect_scores`
reads them, adding each failing task's message from the autograded
notebook; :func:`format_summary` prints one table per assignment (students
by tasks) and the messages of the tasks lost; :func:`write_report` writes the
same rows as CSV. Used by ``scripts/grade.py`` (``make grade``).

Importing :func:`collect_scores` needs nbgrader (the ``grading`` extra).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path


@dataclass(frozen=True)
class TaskScore:
    """The score of one graded cell (task) of one student's submission.

    Attributes:
        student: The student id (the folder name under ``submitted/``).
        assignment: The assignment, e.g. ``mf``.
        notebook: The notebook name without ``.ipynb``.
        task: The graded cell's id, e.g. ``task3-calc-loss-test``.
        score: Points obtained.
        max_score: Points available.
        message: The cell's error, ``Name: message``, when it failed; else empty.
        flags: What looked like tampering, delegation to the reference or a
            broken run in this submission (``kind (cell): reason``, joined by
            ``; ``); see :mod:`recsys_ref.grading.tamper`.
    """

    student: str
    assignment: str
    notebook: str
    task: str
    score: float
    max_score: float
    message: str = ""
    flags: str = ""

    def with_flags(self, flags: str) -> "TaskScore":
        """The same score with ``flags`` set."""
        return TaskScore(self.student, self.assignment, self.notebook, self.task, self.score,
                         self.max_score, self.message, flags)


def _cell_errors_and_order(notebook_path: Path) -> tuple[dict[str, str], list[str]]:
    """Map grade id -> first error line, and the grade ids in cell order, from an autograded notebook."""
    if not notebook_path.exists():
        return {}, []
    nb = json.loads(notebook_path.read_text(encoding="utf-8"))
    errors, order = {}, []
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if not grade_id or not meta.get("grade"):
            continue
        order.append(grade_id)
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                errors[grade_id] = f"{output.get('ename', '')}: {output.get('evalue', '')}".strip(": ")
                break
    return errors, order


def collect_scores(course_dir: str | Path, assignments: Iterable[str] | None = None) -> list[TaskScore]:
    """Every task score in the course's gradebook, in notebook cell order.

    Args:
        course_dir: The nbgrader course folder (holds ``gradebook.db`` and ``autograded/``).
        assignments: Only these assignments; all when ``None``.

    Returns:
        One :class:`TaskScore` per student, assignment and graded cell.
    """
    from nbgrader.api import Gradebook

    course = Path(course_dir).resolve()
    wanted = set(assignments) if assignments is not None else None
    rows: list[TaskScore] = []
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for assignment in sorted(gradebook.assignments, key=lambda a: a.name):
            if wanted is not None and assignment.name not in wanted:
                continue
            for submission in sorted(assignment.submissions, key=lambda s: s.student.id):
                for notebook in sorted(submission.notebooks, key=lambda n: n.name):
                    path = course / "autograded" / submission.student.id / assignment.name / f"{notebook.name}.ipynb"
                    errors, order = _cell_errors_and_order(path)
                    position = {name: i for i, name in enumerate(order)}
                    grades = sorted(notebook.grades, key=lambda g: (position.get(g.name, len(order)), g.name))
                    for grade in grades:
                        rows.append(
                            TaskScore(
                                student=submission.student.id,
                                assignment=assignment.name,
                                notebook=notebook.name,
                                task=grade.name,
                                score=float(grade.score or 0.0),
                                max_score=float(grade.max_score or 0.0),
                                message=errors.get(grade.name, "") if (grade.score or 0) < (grade.max_score or 0) else "",
                            )
                        )
    return rows


def _points(value: float) -> str:
    return f"{value:g}"


def format_summary(rows: Sequence[TaskScore], *, messages: bool = True, width: int = 400) -> str:
    """A plain-text summary: per assignment, a table of students by tasks, then the lost tasks' messages.

    Args:
        rows: From :func:`collect_scores`.
        messages: Also list each lost task with its message.
        width: Messages are cut to this many characters.
    """
    if not rows:
        return "No graded submissions found."
    lines: list[str] = []
    for assignment in dict.fromkeys(r.assignment for r in rows):
        these = [r for r in rows if r.assignment == assignment]
        tasks = list(dict.fromkeys(r.task for r in these))
        students = list(dict.fromkeys(r.student for r in these))
        max_total = sum({r.task: r.max_score for r in these}.values())
        table = [["student", *[t.removesuffix("-test") for t in tasks], "total"]]
        for student in students:
            mine = {r.task: r for r in these if r.student == student}
            cells = [f"{_points(mine[t].score)}/{_points(mine[t].max_score)}" if t in mine else "-" for t in tasks]
            total = sum(r.score for r in mine.values())
            table.append([student, *cells, f"{_points(total)}/{_points(max_total)}"])
        widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
        lines.append(f"Assignment {assignment} ({_points(max_total)} points), {len(students)} submission(s)")
        for row in table:
            lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
        if messages:
            lost = [r for r in these if r.score < r.max_score]
            if lost:
                lines.append("Lost points:")
                for r in lost:
                    text = r.message or "(no error recorded)"
                    if len(text) > width:
                        text = text[: width - 3] + "..."
                    lines.append(f"  {r.student} {r.task.removesuffix('-test')} "
                                 f"{_points(r.score)}/{_points(r.max_score)}: {text}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write_report(rows: Sequence[TaskScore], path: str | Path) -> None:
    """Write the rows as CSV, one line per student, assignment and task (with the message)."""
    names = [f.name for f in fields(TaskScore)]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=names)
        writer.writeheader()
        for row in rows:
            writer.writerow(asdict(row))
