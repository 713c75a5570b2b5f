"""One batch of every case through the real ``make grade`` path, graded once per test session.

A temporary copy of the course (``nbgrader_config.py``, ``solutions/``,
``exercises/``) receives one submission per case of the case tables
(``tests/cases_*.py``), built from the current release at test time; then
``python -m grader --jobs 2`` (what ``make grade JOBS=2`` runs) grades them
all, in sandboxed kernels. The tests read ``grading_report.csv``, the
feedback pages and the terminal output.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.report import TaskScore, read_report
from notebook_cases import REPO, Case, write_case

#: The case tables, in the order their cases are written.
CASE_MODULES = ("cases_mf", "cases_deep", "cases_wrappers", "cases_attacks", "cases_rank")


def all_cases(*, batch_only: bool = True) -> list[Case]:
    """The cases graded through the real path (names are unique).

    With ``batch_only`` (the default): the cases that need a kernel (``in_process=False``) and those a table
    lists in its ``BATCH`` set; every other case is graded in-process by tests/grader/test_cases_in_process.py,
    which covers the checks and their messages in seconds.
    """
    cases: list[Case] = []
    for name in CASE_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
            continue
        batch = getattr(module, "BATCH", set())
        cases.extend(c for c in module.CASES if not batch_only or not c.in_process or c.name in batch)
    names = [c.name for c in cases]
    duplicates = {n for n in names if names.count(n) > 1}
    assert not duplicates, f"case names must be unique: {sorted(duplicates)}"
    return cases


def copy_course(target: Path) -> Path:
    """A course folder with this repository's configuration, solutions and release (no student work)."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "nbgrader_config.py", target / "nbgrader_config.py")
    for folder in ("solutions", "exercises"):
        shutil.copytree(REPO / folder, target / folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return target


def run_grader(course: Path, *args: str, timeout: float = 3600) -> subprocess.CompletedProcess:
    """``python -m grader --course-dir course ...`` as ``make grade`` runs it (the venv's bin on PATH)."""
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")}
    return subprocess.run([sys.executable, "-m", "grader", "--course-dir", str(course), "--no-progress", *args],
                          capture_output=True, text=True, env=env, timeout=timeout)


@dataclass
class Batch:
    """The outcome of grading every case once."""

    course: Path
    cases: dict[str, Case]
    rows: dict[str, list[TaskScore]]  # student -> rows
    output: str
    returncode: int
    seconds: float

    def scores(self, student: str) -> dict[str, float]:
        return {r.task: r.score for r in self.rows.get(student, [])}

    def feedback(self, case: Case) -> Path:
        return self.course / "feedback" / case.name / case.assignment / f"{case.assignment}.html"


@pytest.fixture(scope="session")
def batch(tmp_path_factory) -> Batch:
    """Every case graded once, through ``python -m grader --jobs 2``."""
    course = copy_course(tmp_path_factory.mktemp("course"))
    cases = all_cases()
    for case in cases:
        write_case(case, course / "submitted")
    started = time.perf_counter()
    result = run_grader(course, "--jobs", "2")
    seconds = time.perf_counter() - started
    rows: dict[str, list[TaskScore]] = {}
    report = course / "grading_report.csv"
    for row in read_report(report) if report.is_file() else []:
        rows.setdefault(row.student, []).append(row)
    table = os.environ.get("RECSYS_CASE_TABLE")
    if table:
        _write_table(Path(table), course, cases, rows, seconds)
    return Batch(course, {c.name: c for c in cases}, rows, result.stdout + result.stderr, result.returncode, seconds)


def _write_table(path: Path, course: Path, cases: list[Case], rows: dict[str, list[TaskScore]],
                 seconds: float) -> None:
    """A markdown table of every case: expected and observed score, flags, feedback (for the closing note)."""
    lines = [f"Batch of {len(cases)} notebooks graded in {seconds:.0f} s.", "",
             "| case | assignment | what | expected | observed | flags | feedback |", "|---|---|---|---:|---:|---|---|"]
    for case in cases:
        expected = sum(case.expected_scores().values())
        mine = rows.get(case.name, [])
        observed = sum(r.score for r in mine)
        total = sum(r.max_score for r in mine)
        flags = sorted({f.split(" ")[0] for r in mine for f in r.flags.split("; ") if f})
        page = course / "feedback" / case.name / case.assignment / f"{case.assignment}.html"
        lines.append(f"| {case.name} | {case.assignment} | {case.what} | {expected:g} | {observed:g}/{total:g} | "
                     f"{', '.join(flags) or '-'} | {'yes' if page.is_file() else 'no'} |")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
