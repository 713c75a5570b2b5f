"""The same class graded serially, with ``--jobs 2`` and on a local Dask cluster gives identical results.

A small class (a correct notebook, wrong answers, a cell that raises, a kernel
that dies, an endless loop, a file that is not a notebook, and the second
assignment) is written into three copies of the course and graded by
``python -m grader`` three times: in one process, with two worker processes,
and on a ``distributed.LocalCluster`` (a scheduler and two single-threaded
worker processes) started here. ``grading_report.csv``, ``grades.csv``, every
feedback page (byte for byte, after :func:`normalise`) and the gradebook's
scores must be the same.

Set ``RECSYS_SCHEDULING_TIMES=<path>`` to write the three runs' times.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from conftest import copy_course, run_grader
from notebook_cases import Case, write_case
from test_attacks import gradebook_grades

pytestmark = [pytest.mark.nbgrader, pytest.mark.movielens, pytest.mark.slow]

#: Cheap limits: the endless loop costs one cell timeout.
CONFIG = """
# tests/pipeline/test_scheduling.py: cheap limits
c.Execute.timeout = 10
c.GradingLimits.notebook_seconds = 120
c.GradingLimits.max_regrades = 1
"""
LOSS = "    squared_error = exist * (true_r - est_r) ** 2\n    return squared_error.sum() / exist.sum()"

CLASS = (
    Case("sched-correct", "mf", "the instructor's solution"),
    Case("sched-wrong", "mf", "loss over all cells and clipping instead of min-max",
         edits=(("task3-calc-loss", LOSS, "    return (exist * (true_r - est_r) ** 2).mean()"),),
         code={"task5-to-rating-range": "def to_rating_range(estimated, low=1.0, high=5.0):\n"
                                        "    return estimated.clamp(low, high)\n"}),
    Case("sched-raises", "mf", "estimate raises", code={"task4-estimate": "def estimate(user_factors, movies_factors):\n"
                                                                          "    raise ValueError('not yet')\n"}),
    Case("sched-kernel-dies", "mf", "the Task 5 cell kills the kernel",
         code={"task5-to-rating-range": "import os\nos._exit(3)\n"}),
    Case("sched-stalls", "mf", "an endless loop in the Task 1 cell (cell timeout)",
         code={"task1-factors": "while True:\n    pass\n"}),
    Case("sched-not-a-notebook", "mf", "a text file saved as mf.ipynb", wrap=lambda nb: b"my answers: 42\n"),
    Case("sched-deep-correct", "deep", "the instructor's solution of deep"),
)

#: Legitimately variable text in feedback pages (none is expected; each entry says why it varies).
VARIABLE = (
    # the scratch course's temporary folder, should a path appear in an output
    (re.compile(r"/tmp/grade-[0-9a-f]{8}-[A-Za-z0-9_]{8}"), "/tmp/grade-SCRATCH"),
)


def normalise(text: str) -> str:
    """A feedback page without what legitimately differs between two gradings (see :data:`VARIABLE`)."""
    for pattern, replacement in VARIABLE:
        text = pattern.sub(replacement, text)
    return text


def _course(root: Path) -> Path:
    course = copy_course(root)
    with open(course / "nbgrader_config.py", "a", encoding="utf-8") as handle:
        handle.write(CONFIG)
    for case in CLASS:
        write_case(case, course / "submitted")
    return course


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, dict]:
    """Mode -> {course, seconds, returncode, output}: the class graded serially, with 2 jobs and on Dask."""
    from distributed import LocalCluster

    results = {}
    for mode in ("serial", "jobs", "dask"):
        course = _course(tmp_path_factory.mktemp(f"class-{mode}"))
        started = time.perf_counter()
        if mode == "serial":
            result = run_grader(course)
        elif mode == "jobs":
            result = run_grader(course, "--jobs", "2")
        else:
            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                              host="127.0.0.1") as cluster:
                result = run_grader(course, "--dask-scheduler", cluster.scheduler_address)
        results[mode] = {"course": course, "seconds": time.perf_counter() - started, "returncode": result.returncode,
                         "output": result.stdout + result.stderr}
    if os.environ.get("RECSYS_SCHEDULING_TIMES"):
        Path(os.environ["RECSYS_SCHEDULING_TIMES"]).write_text(
            "".join(f"{mode}: {run['seconds']:.0f} s (exit {run['returncode']})\n" for mode, run in results.items()),
            encoding="utf-8")
    return results


def test_every_run_grades_the_whole_class(runs):
    for mode, run in runs.items():
        report = (run["course"] / "grading_report.csv").read_text(encoding="utf-8")
        for case in CLASS:
            assert f"{case.name}," in report, f"{mode}: {case.name} missing\n{run['output'][-3000:]}"
    assert len({run["returncode"] for run in runs.values()}) == 1, {m: r["returncode"] for m, r in runs.items()}


def test_the_class_gets_its_grades(runs):
    """The grades themselves are right (so that three identical wrong answers cannot pass)."""
    from grader.report import read_report

    scores: dict[str, float] = {}
    for row in read_report(runs["serial"]["course"] / "grading_report.csv"):
        scores[row.student] = scores.get(row.student, 0.0) + row.score
    assert scores["sched-correct"] == 10 and scores["sched-deep-correct"] == 10
    assert scores["sched-wrong"] == 5
    assert scores["sched-raises"] == 9
    assert scores["sched-stalls"] == 8  # Task 1 is 0 (2 points); fresh factors let the rest be graded
    assert scores["sched-not-a-notebook"] == 0


@pytest.mark.parametrize("name", ["grading_report.csv", "grades.csv"])
def test_identical_reports(runs, name):
    serial = runs["serial"]["course"] / name
    if not serial.is_file():
        pytest.skip(f"{name} is not written")
    for mode in ("jobs", "dask"):
        assert (runs[mode]["course"] / name).read_bytes() == serial.read_bytes(), f"{name} differs: serial vs {mode}"


def test_identical_feedback_pages(runs):
    pages = sorted(p.relative_to(runs["serial"]["course"])
                   for p in (runs["serial"]["course"] / "feedback").rglob("*.html"))
    assert len(pages) == len(CLASS)
    for mode in ("jobs", "dask"):
        other = sorted(p.relative_to(runs[mode]["course"]) for p in (runs[mode]["course"] / "feedback").rglob("*.html"))
        assert other == pages, f"{mode} wrote other feedback pages"
        for page in pages:
            a = normalise((runs["serial"]["course"] / page).read_text(encoding="utf-8"))
            b = normalise((runs[mode]["course"] / page).read_text(encoding="utf-8"))
            assert a == b, f"{page} differs between serial and {mode}: " + _first_difference(a, b)


def test_identical_gradebook_scores(runs):
    serial = gradebook_grades(runs["serial"]["course"])
    assert serial
    for mode in ("jobs", "dask"):
        assert gradebook_grades(runs[mode]["course"]) == serial, f"gradebook scores differ: serial vs {mode}"


def _first_difference(a: str, b: str) -> str:
    index = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return f"at character {index}: {a[max(0, index - 80):index + 80]!r} vs {b[max(0, index - 80):index + 80]!r}"
