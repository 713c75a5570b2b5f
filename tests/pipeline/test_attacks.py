"""Attacks on the grading engine (``tests/cases_attacks.py``) through ``python -m grader``: each gets only the
points it earned, the attempt fails inside the sandbox (and the autograded notebook shows how), the report
flags it, and nothing outside the submission changes.

The attacks of ``cases_attacks.CASES`` are graded in the shared batch of every case table (``conftest.batch``;
``test_cases.py`` checks their scores, messages, flags and feedback); this module adds what only attacks need:
what the autograded notebook shows, the course's gradebook and files afterwards, processes left behind.

``cases_attacks.LIMITS_CASES`` (attacks that run into a cell timeout or the notebook's wall time) are graded
here in a course of their own with cheap limits.
"""

from __future__ import annotations

import contextlib
import html
import os
import re
import sqlite3
import sys
import time
from pathlib import Path

import nbformat
import pytest
from cases_attacks import CASES, LIMITS_CASES, Attack
from conftest import Batch, copy_course, run_grader
from notebook_cases import write_case

from grader.report import read_report

pytestmark = [pytest.mark.nbgrader, pytest.mark.movielens, pytest.mark.slow]

#: Cheap limits for the attacks that run into them (appended to the course's nbgrader_config.py).
LIMITS_CONFIG = """
# tests/pipeline/test_attacks.py: cheap limits
c.Execute.timeout = 10
c.GradingLimits.notebook_seconds = 120
c.GradingLimits.max_regrades = 2
"""
#: What a feedback page must never show (as tests/pipeline/test_cases.py).
HIDDEN = ("BEGIN HIDDEN TESTS", "record_factors(", "record_calc_loss(", "Traceback (most recent call last)",
          "site-packages")
#: An autograded notebook or a feedback page larger than this has kept a flood of output.
MAX_PAGE_BYTES = 5 * 1024 * 1024


def outputs_text(notebook: Path) -> str:
    """Every output of every cell of a notebook, as text (not the cells' source)."""
    nb = nbformat.read(notebook, as_version=4)
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                parts.append(output.get("text", ""))
            elif output.get("output_type") == "error":
                parts.append(f"{output.get('ename', '')}: {output.get('evalue', '')}")
            else:
                parts.append(str(output.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def problems(batch: Batch, case: Attack) -> list[str]:
    """Everything about ``case``'s grading that differs from what the case expects (empty: all as expected)."""
    rows = batch.rows.get(case.name, [])
    if not rows:
        return [f"{case.name} is not in grading_report.csv"]
    found = []
    observed = {r.task: r.score for r in rows}
    if observed != case.expected_scores():
        found.append(f"scores {observed}, expected {case.expected_scores()}: " + " | ".join(
            f"{r.task}: {r.message[:200]}" for r in rows if r.score < r.max_score))
    kinds = {flag.split(" ")[0].rstrip(":") for flag in rows[0].flags.split("; ") if flag}
    if not set(case.flags) <= kinds:
        found.append(f"flags {sorted(kinds)} lack {sorted(set(case.flags) - kinds)}")
    if set(case.absent_flags) & kinds:
        found.append(f"unexpected flags {sorted(set(case.absent_flags) & kinds)}: {rows[0].flags}")
    if case.message and case.message not in " ".join(r.message for r in rows if r.score < r.max_score):
        found.append(f"no lost task's message contains {case.message!r}")
    log = batch.course / ".grading" / "logs" / case.assignment / f"{case.name}.log"
    if "the grader failed" in rows[0].message and log.is_file():
        errors = [line for line in log.read_text(encoding="utf-8", errors="replace").splitlines()
                  if line.startswith(("[ERROR]", "[grader]")) or "Error" in line]
        found.append("the grader failed; its log says: " + " / ".join(dict.fromkeys(errors))[-2000:])
    notebook = batch.course / "autograded" / case.name / case.assignment / f"{case.assignment}.ipynb"
    if rows[0].status == "graded":
        if not notebook.is_file():
            found.append("no autograded notebook")
        else:
            text = outputs_text(notebook)
            found += [f"the autograded notebook's outputs lack {shown!r}" for shown in case.shows if shown not in text]
            if notebook.stat().st_size > MAX_PAGE_BYTES:
                found.append(f"the autograded notebook has {notebook.stat().st_size / 1e6:.0f} MB")
    page = batch.feedback(case)
    if not page.is_file():
        found.append("no feedback page")
    else:
        if page.stat().st_size > MAX_PAGE_BYTES:
            found.append(f"the feedback page has {page.stat().st_size / 1e6:.0f} MB")
        text = html.unescape(page.read_text(encoding="utf-8", errors="replace"))
        found += [f"the feedback shows {hidden!r}" for hidden in HIDDEN if hidden in text]
    return found


def _processes_mentioning(text: str) -> list[str]:
    """Command lines of running processes that contain ``text`` (not this test's own)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            args = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in args:
            found.append(f"{proc.name}: {args[:200]}")
    return found


# --------------------------------------------------------------------------- the shared batch

SHOWING = [c for c in CASES if c.shows]


@pytest.mark.parametrize("case", SHOWING, ids=[c.name for c in SHOWING])
def test_the_attempt_fails_inside_the_sandbox(batch, case):
    """The autograded notebook shows the attempt failing (or finding nothing), and the case is graded as expected."""
    assert not problems(batch, case), f"{case.what}:\n" + "\n".join(problems(batch, case))


def gradebook_grades(course: Path) -> list[tuple]:
    """Every grade of a course's gradebook: (student, assignment, cell, auto score, manual score, points), sorted."""
    with contextlib.closing(sqlite3.connect(f"file:{course / 'gradebook.db'}?mode=ro", uri=True)) as db:
        return sorted(db.execute(
            "SELECT submitted_assignment.student_id, assignment.name, base_cell.name, grade.auto_score, "
            "grade.manual_score, grade_cells.max_score FROM grade "
            "JOIN grade_cells ON grade.cell_id = grade_cells.id JOIN base_cell ON base_cell.id = grade_cells.id "
            "JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id "
            "JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id "
            "JOIN assignment ON submitted_assignment.assignment_id = assignment.id").fetchall(),
            key=lambda row: tuple(str(v) for v in row))


def test_no_attack_gives_itself_points_in_the_gradebook(batch):
    """No manual score anywhere (an attack wrote no grade), no score above its task's points."""
    grades = gradebook_grades(batch.course)
    graded = {c.name for c in CASES if c.group != "broken files"}
    assert {row[0] for row in grades} >= graded
    manual = [row for row in grades if row[4] is not None]
    assert not manual, f"manual scores in the gradebook: {manual}"
    above = [row for row in grades if (row[3] or 0) > row[5]]
    assert not above, f"scores above the task's points: {above}"


def test_nothing_outside_the_submissions_changed(batch):
    """The course holds no file an attack wrote; the venv, the MovieLens cache and /etc neither."""
    from recsys_ref.data import default_data_home

    intruders = [p for p in batch.course.rglob("*") if p.name.startswith(("intruder", "filler"))
                 and "autograded" not in p.parts]
    intruders += [p for p in (Path(sys.prefix) / "intruder.txt", Path(default_data_home()) / "intruder.txt",
                              Path("/etc/intruder.txt"), Path(os.__file__).parent / "intruder.py") if p.exists()]
    assert not intruders, f"files written outside the submissions: {intruders}"


def test_no_process_started_by_a_submission_is_left(batch):
    assert not _processes_mentioning("sleep 317"), _processes_mentioning("sleep 317")


# --------------------------------------------------------------------------- attacks graded with cheap limits


@pytest.fixture(scope="module")
def limits_batch(tmp_path_factory) -> Batch:
    """:data:`LIMITS_CASES` graded once (``--jobs 2``) in a course with cheap limits, scratch in a known folder."""
    root = tmp_path_factory.mktemp("attacks")
    course = copy_course(root / "course")
    with open(course / "nbgrader_config.py", "a", encoding="utf-8") as handle:
        handle.write(LIMITS_CONFIG)
    for case in LIMITS_CASES:
        write_case(case, course / "submitted")
    scratch = root / "scratch"
    scratch.mkdir()
    old = os.environ.get("RECSYS_GRADING_SCRATCH")
    os.environ["RECSYS_GRADING_SCRATCH"] = str(scratch)
    started = time.perf_counter()
    try:
        result = run_grader(course, "--jobs", "2")
    finally:
        if old is None:
            os.environ.pop("RECSYS_GRADING_SCRATCH", None)
        else:
            os.environ["RECSYS_GRADING_SCRATCH"] = old
    seconds = time.perf_counter() - started
    rows: dict = {}
    report = course / "grading_report.csv"
    for row in read_report(report) if report.is_file() else []:
        rows.setdefault(row.student, []).append(row)
    batch = Batch(course, {c.name: c for c in LIMITS_CASES}, rows, result.stdout + result.stderr, result.returncode,
                  seconds)
    batch.scratch = scratch  # type: ignore[attr-defined]
    return batch


def test_every_attack_is_graded_somewhere():
    names = [c.name for c in CASES + LIMITS_CASES]
    assert len(names) == len(set(names))
    assert {c.group for c in CASES + LIMITS_CASES} >= {"tampering", "beating the checks", "reaching the reference",
                                                      "threads and patches", "tampering with records", "the sandbox",
                                                      "breaking the run", "broken files"}


def test_the_limits_batch_reports_everyone(limits_batch):
    assert set(limits_batch.rows) == {c.name for c in LIMITS_CASES}, limits_batch.output[-3000:]


@pytest.mark.parametrize("case", LIMITS_CASES, ids=[c.name for c in LIMITS_CASES])
def test_attack_with_cheap_limits(limits_batch, case):
    """Scores, flags, messages, what the notebook shows, the feedback page (see :func:`problems`)."""
    assert not problems(limits_batch, case), f"{case.what}:\n" + "\n".join(problems(limits_batch, case))


def test_sandboxes_leave_no_process_behind(limits_batch):
    """The fork bomb's children, the stalled kernel and the killed ones are gone with their sandboxes."""
    scratch = str(limits_batch.scratch)
    assert not _processes_mentioning(scratch), _processes_mentioning(scratch)
    assert not list(Path(scratch).iterdir()), "scratch courses were left behind"


def test_the_cell_timeout_stops_a_kernel_that_ignores_interrupts(limits_batch):
    """A cell that ignores SIGINT and sleeps forever is cut by the per-cell timeout (nbclient's interrupt, then its
    own give-up), well before the notebook's wall time, and the notebook is graded again without that cell.

    (The wall time itself, the backstop when a kernel outlives the cell timeout, is tested on the launcher in
    tests/grader/test_sandbox.py.)"""
    log = limits_batch.course / ".grading" / "logs" / "mf" / "attack-stall-ignoring-interrupts.log"
    said = log.read_text(encoding="utf-8")
    assert "Timeout waiting for execute reply (10s)" in said, said[-3000:]
    seconds = re.search(r"\[grader\] graded in ([0-9.]+) s", said)
    assert seconds and float(seconds.group(1)) < 120, said[-3000:]


def _report_table(batch: Batch, cases) -> str:
    lines = ["| case | group | expected | observed | flags | problems |", "|---|---|---:|---:|---|---|"]
    for case in cases:
        rows = batch.rows.get(case.name, [])
        kinds = sorted({f.split(" ")[0].rstrip(":") for r in rows[:1] for f in r.flags.split("; ") if f})
        lines.append(f"| {case.name} | {case.group} | {sum(case.expected_scores().values()):g} | "
                     f"{sum(r.score for r in rows):g} | {', '.join(kinds) or '-'} | "
                     f"{'; '.join(problems(batch, case)) or '-'} |")
    return "\n".join(lines) + "\n"


def test_write_the_attack_table(batch, limits_batch):
    """With RECSYS_ATTACK_TABLE=<path>: the table of every attack (for the report)."""
    path = os.environ.get("RECSYS_ATTACK_TABLE")
    if not path:
        pytest.skip("RECSYS_ATTACK_TABLE not set")
    Path(path).write_text(f"Shared batch: {batch.seconds:.0f} s; limits batch: {limits_batch.seconds:.0f} s\n\n"
                          + _report_table(batch, CASES) + "\n" + _report_table(limits_batch, LIMITS_CASES)
                          + "\n```\n" + limits_batch.output[-6000:] + "\n```\n", encoding="utf-8")
