"""What the instructor reads after ``make grade``: per-task rows, the terminal summary, the report files.

One :class:`TaskScore` row per student, assignment and graded task (also for
submissions that could not be graded, at 0 with the reason, so that nobody is
missing). :func:`write_report` writes them to ``grading_report.csv``;
:func:`format_summary` prints the students x tasks table and every lost
task's message.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import pandas as pd

#: Flags join with this in one CSV cell (a flag's own text never contains it).
FLAG_SEPARATOR = "; "


@dataclass(frozen=True)
class TaskScore:
    """The score of one graded task of one student's submission.

    Attributes:
        student: The student id (the folder name under ``submitted/``).
        assignment: The assignment, e.g. ``mf``.
        notebook: The notebook name without ``.ipynb``.
        task: The graded cell's id, e.g. ``task3-calc-loss-test``.
        score: Points obtained (before any late penalty).
        max_score: Points available.
        message: What to fix, when points were lost (the student's feedback says the same).
        flags: What the instructor should look at (tampering, reference use, a stopped kernel, an
            unusual file), joined by ``"; "``.
        status: ``graded``, ``not graded`` (a file that could not be graded: score 0 with the reason) or
            ``not submitted``.
    """

    student: str
    assignment: str
    notebook: str
    task: str
    score: float
    max_score: float
    message: str = ""
    flags: str = ""
    status: str = "graded"


def write_report(rows: Sequence[TaskScore], path: str | Path) -> None:
    """Write the rows as CSV, one line per student, assignment and task."""
    names = [f.name for f in fields(TaskScore)]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=names)
        writer.writeheader()
        for row in rows:
            writer.writerow(asdict(row))


def read_report(path: str | Path) -> list[TaskScore]:
    """The rows of a ``grading_report.csv`` written by :func:`write_report`."""
    with open(path, newline="", encoding="utf-8") as handle:
        return [TaskScore(**{**row, "score": float(row["score"]), "max_score": float(row["max_score"])})
                for row in csv.DictReader(handle)]


def _short(task: str) -> str:
    return task.removesuffix("-test")


def format_summary(rows: Sequence[TaskScore], *, messages: bool = True) -> str:
    """Per assignment, a table of students by tasks (``score/max``) and the messages of the lost tasks."""
    if not rows:
        return "No submissions found.\n"
    frame = pd.DataFrame([asdict(r) for r in rows])
    lines: list[str] = []
    for assignment, these in frame.groupby("assignment", sort=True):
        order = list(dict.fromkeys(these["task"]))
        cells = these.assign(cell=these["score"].map("{:g}".format) + "/" + these["max_score"].map("{:g}".format))
        table = cells.pivot_table(index="student", columns="task", values="cell", aggfunc="first")[order]
        table.columns = [_short(t) for t in order]
        totals = these.groupby("student")[["score", "max_score"]].sum()
        table["total"] = totals["score"].map("{:g}".format) + "/" + totals["max_score"].map("{:g}".format)
        lines.append(f"Assignment {assignment}: {these['student'].nunique()} student(s)")
        lines.append(table.to_string())
        lost = these[these["score"] < these["max_score"]]
        if messages and len(lost):
            lines.append("Lost points:")
            for row in lost.itertuples():
                lines.append(f"  {row.student} {_short(row.task)} {row.score:g}/{row.max_score:g}: "
                             f"{row.message or '(no message recorded)'}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
