"""``make grade`` from start to end: intake, staging, grading, merging, reports and exports.

1. **Intake** (with ``ZIP=``): a learning platform's zip goes into
   ``submitted/<student>/<assignment>/`` (:mod:`grader.intake`); every file is
   collected or reported, and a student none of whose files could be collected
   (a PDF, a damaged copy in the zip, another assignment's notebook) still gets
   a row in every output: 0, with the files and what to do
   (:func:`unusable_uploads`).
2. **Releases**: each assignment is generated from ``solutions/`` in a
   temporary course (:func:`grader.course.release_template`); grading stops
   when that differs from the committed ``exercises/`` (students must be
   graded against what they received: run ``make release``) and warns when
   only the hidden tests changed.
3. **Staging**, per submission, in this process: the notebook is read
   (a damaged file scores 0 with the reason), matched to the release and
   repaired (:mod:`grader.staging`), and its code scanned for the instructor
   (:mod:`grader.inspection`).
4. **Grading**: every staged submission becomes a plain-data job, graded in
   its own scratch course and sandbox here, in worker processes or on a Dask
   cluster (:mod:`grader.scheduling`, :mod:`grader.autograde`).
5. **Merging**: scores into the course's gradebook, autograded notebooks and
   feedback pages into the course (:mod:`grader.gradebook`); submissions
   that disappeared from ``submitted/`` are removed from the gradebook and
   reported.
6. **Reports and exports**: ``grading_report.csv`` (one row per student,
   assignment and task, flags included), the cohort summary, ``grades.csv``
   and the learning platforms' import files (:mod:`grader.report`,
   :mod:`grader.cohort`, :mod:`grader.export`).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Sequence
from typing import TextIO

from grader import gradebook as gb
from grader import notebooks as nbs
from grader.autograde import Job, Result, job_settings
from grader.course import Course, release_template
from grader.cohort import write_cohort_summary
from grader.export import write_exports
from grader.feedback import not_graded_page
from grader.inspection import Flag, reference_use
from grader.intake import IntakeEntry, collect_archive, find_notebook, format_intake, write_intake_report
from grader.releases import known_sources, solutions_changed
from grader.report import FLAG_SEPARATOR, TaskScore, format_summary, write_report
from grader.sandbox import SandboxUnavailable, check_bwrap
from grader.settings import load_settings
from grader.staging import NotThisNotebook, stage

REPORT = "grading_report.csv"
COHORT = "cohort_summary.md"
SUMMARY_TABLE_LIMIT = 40  # students per assignment above which the terminal shows per-task totals only


class GradingStopped(SystemExit):
    """Grading cannot start; the message says what to do."""


@dataclass
class Submission:
    """One student's submission of one assignment, as the coordinator sees it."""

    student: str
    assignment: str
    timestamp: str | None = None
    flags: list[str] = field(default_factory=list)
    rejected: str = ""  # why it scores 0 without running
    staged: dict[str, str] = field(default_factory=dict)  # notebook name -> staged JSON text
    reference_cells: dict[str, str] = field(default_factory=dict)
    result: Result | None = None


@dataclass
class Options:
    """How to grade (from the command line)."""

    zip_path: Path | None = None
    assignments: list[str] | None = None
    workers: int = 1
    scheduler: str | None = None
    sandbox: bool = True
    progress: bool = True
    collect_only: bool = False


def _say(out: TextIO, text: str = "") -> None:
    print(text, file=out, flush=True)


ROSTER = "roster.csv"
#: Intake statuses of a student's upload that could not become a notebook to grade: the student still gets a
#: grade (0, with the reason), never silence.
UNUSABLE_UPLOADS = ("not-a-notebook", "other-assignment", "not-an-assignment", "unreadable", "too-large")
#: What the instructor can do about each (``{a}``: the assignment, ``{s}``: the student).
UNUSABLE_ADVICE = {
    "not-a-notebook": "ask the student to hand in the notebook of {a}, then import the new download (or put the "
                      "notebook in submitted/{s}/{a}/) and grade again",
    "other-assignment": "if the student meant it for {a}, put it in submitted/{s}/{a}/ under the released name and "
                        "grade again, else ask the student for the notebook of {a}",
    "not-an-assignment": "import the zip again with --assignment {a} (ASSIGNMENT={a}), or put the notebook in "
                         "submitted/{s}/{a}/, and grade again",
    "unreadable": "download the zip from the platform again and grade again",
    "too-large": "ask the student to clear the notebook's outputs and hand it in again (or put a smaller copy in "
                 "submitted/{s}/{a}/) and grade again",
}


def unusable_uploads(entries: Sequence[IntakeEntry], assignments: Sequence[str]) -> dict[tuple[str, str], str]:
    """``(student, assignment) -> reason`` for each student whose uploads to the intake could not be collected.

    An upload counts for its assignment when the intake told it (and that assignment is graded now). An upload
    that names no graded assignment (a text file in a zip of several assignments, another assignment's
    notebook) counts for every assignment in ``assignments``, unless the student has a file collected for
    one of them: nobody the intake saw disappears from the grades. A file beside a collected notebook of the
    same assignment costs nothing. The reason names every such file, what
    the intake said of it, and what to do.
    """
    graded = list(assignments)
    collected = {(e.student, e.assignment) for e in entries if e.student and e.status in ("collected", "superseded")
                 and e.assignment in graded}
    placed = {student for student, _ in collected}
    found: dict[tuple[str, str], list[IntakeEntry]] = {}
    spread: set[tuple[str, str]] = set()
    for e in entries:
        if not e.student or e.status not in UNUSABLE_UPLOADS:
            continue
        if e.assignment in graded and e.status != "other-assignment":
            if (e.student, e.assignment) in collected:
                continue  # a file beside the student's notebook (a readme, a PDF of it)
            targets = [e.assignment]
        elif e.student in placed:
            continue
        else:
            targets = graded
            spread.update((e.student, a) for a in graded)
        for assignment in targets:
            found.setdefault((e.student, assignment), []).append(e)
    reasons = {}
    for (student, assignment), uploads in found.items():
        said = [e.reason.split(". ", 1)[0].rstrip(".") for e in uploads]  # the intake's first sentence: what it is
        what = " and ".join(f"{e.member} ({text[:1].lower()}{text[1:]})" for e, text in zip(uploads, said))
        parts = [f"nothing could be graded: the student's upload{'s' if len(uploads) > 1 else ''} {what}"]
        if (student, assignment) in spread and len(graded) > 1:
            parts.append(f"The upload names none of the assignments graded ({', '.join(graded)}), so it counts "
                         "for each")
        advice = dict.fromkeys(UNUSABLE_ADVICE[e.status].format(a=assignment, s=student) for e in uploads)
        parts += [a[0].upper() + a[1:] for a in advice]
        reasons[(student, assignment)] = ". ".join(parts).replace("; ", ", ") + "."
    return reasons


def inspect_submissions(course: Course, assignment: str, releases: dict[str, object]) -> list[Submission]:
    """Read, match and stage every submission of ``assignment`` in ``submitted/``."""
    submissions = []
    for folder in sorted(p for p in course.submitted.glob(f"*/{assignment}") if p.is_dir()):
        sub = Submission(folder.parent.name, assignment)
        stamp = folder / "timestamp.txt"
        if stamp.is_file():
            sub.timestamp = stamp.read_text(encoding="utf-8").strip()
        for name, release in releases.items():
            path, note = find_notebook(folder, name, course.release_notebooks(assignment))
            if note:
                sub.flags.append(str(Flag("renamed-file" if path else "missing-file", name, note)))
            if path is None:
                sub.rejected = sub.rejected or (note or f"no {name} in the submission")
                continue
            try:
                nb, notes = nbs.read_notebook(path)
                staged = stage(nb, release, known_sources=known_sources(course, assignment, name), notebook=name)
            except (nbs.NotANotebook, NotThisNotebook) as error:
                sub.rejected = sub.rejected or str(error)
                sub.flags.append(str(Flag("broken-file", name, str(error))))
                continue
            sub.flags += [str(Flag("file-repaired", name, note)) for note in notes]
            sub.flags += [str(flag) for flag in staged.flags]
            sub.reference_cells.update(reference_use(staged.flags))
            sub.staged[name] = nbs.nbformat.writes(staged.notebook, version=4)
        sub.flags = list(dict.fromkeys(sub.flags))
        submissions.append(sub)
    return submissions


def _rows(course: Course, sub: Submission, releases: dict[str, object]) -> list[TaskScore]:
    flags = FLAG_SEPARATOR.join(sub.flags)
    result = sub.result
    if result is not None and result.status == "graded":
        notebook = Path(next(iter(releases))).stem
        return [TaskScore(sub.student, sub.assignment, notebook, t.grade_id, t.score, t.max_score, t.message, flags)
                for t in result.tasks]
    reason = sub.rejected or (result.error if result else "not graded")
    rows = []
    for name, release in releases.items():
        for gid, points in nbs.graded_cells(release):
            rows.append(TaskScore(sub.student, sub.assignment, Path(name).stem, gid, 0.0, points,
                                  f"not graded: {reason}", flags, "not graded"))
    return rows


def _merge(course: Course, sub: Submission, releases: dict[str, object]) -> None:
    """Scores into the gradebook, files into the course, for one submission."""
    result = sub.result
    if result is not None and result.status == "graded":
        gb.store_submission(course, sub.student, sub.assignment, {t.grade_id: t.score for t in result.tasks},
                            sub.timestamp)
        gb.write_files(course, sub.student, sub.assignment, result.autograded, result.feedback)
        return
    reason = sub.rejected or (result.error if result else "not graded")
    gb.store_submission(course, sub.student, sub.assignment, {}, sub.timestamp)
    pages = {Path(name).stem: not_graded_page(sub.student, sub.assignment, name, reason) for name in releases}
    gb.write_files(course, sub.student, sub.assignment, {}, pages)


def grade_course(course_dir: Path, options: Options, out: TextIO = sys.stdout) -> int:
    """Run ``make grade``; returns the exit status (0: every submission graded or refused with a reason)."""
    from grader.course import quiet_libraries

    quiet_libraries()
    started = time.perf_counter()
    course = Course(Path(course_dir).resolve())
    settings = load_settings(course.root)
    if not options.sandbox:
        settings.sandbox.enabled = False
    if settings.sandbox.enabled:
        try:
            sandbox = f"sandbox: {check_bwrap()}"
        except SandboxUnavailable as error:
            raise GradingStopped(f"Cannot grade in a sandbox: {error}.") from None
    else:
        sandbox = "sandbox: OFF (UNSANDBOXED): student code runs with your permissions; recorded in the report"
    course.staging.mkdir(exist_ok=True)
    attention: list[str] = []
    marked_late: set[tuple[str, str]] = set()
    entries: list[IntakeEntry] = []
    if options.zip_path is not None:
        entries = collect_archive(course, options.zip_path, options.assignments, roster=course.root / ROSTER)
        write_intake_report(entries, course.staging / "intake.csv")
        _say(out, format_intake(entries).rstrip())
        marked_late = {(e.student, e.assignment) for e in entries if e.late and e.student and e.assignment}
        attention += [f"{options.zip_path.name}: {e.member}: {e.status}: {e.reason}" for e in entries if e.needs_attention]
        if options.collect_only:
            return 0
    candidates = options.assignments or course.assignments()
    told = {e.assignment for e in entries if e.student and e.status in UNUSABLE_UPLOADS}
    to_grade = [a for a in candidates if any(course.submitted.glob(f"*/{a}")) or a in told]
    # (student, assignment) -> why their uploads could not be collected: they are graded 0 with it
    unusable = unusable_uploads(entries, to_grade)
    if not to_grade:
        raise GradingStopped("No submissions: put them in submitted/<student>/<assignment>/<notebook>.ipynb, or pass "
                             "ZIP=<file> (a learning platform's download).")
    submissions: list[Submission] = []
    release_nbs: dict[str, dict[str, object]] = {}
    templates = {}
    for assignment in to_grade:
        template = release_template(course, assignment)
        if template.differences:
            raise GradingStopped(f"exercises/{assignment} differs from what solutions/{assignment} generates "
                                 f"({template.differences[0]}): run `make release`, commit, and grade against the "
                                 "notebooks the students received.")
        for path in solutions_changed(course, assignment):
            attention.append(f"{path} changed since the last `make release` (the students' notebook is the same): "
                             "graded with its current hidden tests. Run `make release` to record it.")
        if assignment not in gb.known_assignments(course):
            gb.record_assignment(course, assignment)
        templates[assignment] = template
        release_nbs[assignment] = {name: nbs.parse_notebook(raw, name)[0] for name, raw in template.release.items()}
        found = inspect_submissions(course, assignment, release_nbs[assignment])
        present = {s.student for s in found}
        found += [Submission(student, assignment, rejected=reason) for (student, a), reason in sorted(unusable.items())
                  if a == assignment and student not in present]
        submissions += found
    paths = [str(course.root)]
    jobs, graded = [], []
    for sub in submissions:
        if not settings.sandbox.enabled:
            sub.flags.append(str(Flag("unsandboxed", "", "graded without the sandbox (UNSANDBOXED)")))
        if sub.rejected:
            continue
        jobs.append(Job(sub.student, sub.assignment, sub.staged, templates[sub.assignment].gradebook, sub.timestamp,
                        sub.reference_cells, job_settings(settings, paths)))
        graded.append(sub)
    workers = "a Dask cluster at " + options.scheduler if options.scheduler else (
        f"{options.workers} worker processes" if options.workers > 1 else "1 process")
    _say(out, f"Grading {len(jobs)} notebook(s) of {', '.join(to_grade)} with {workers} ({sandbox}).")
    log_dir = course.staging / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    from grader.scheduling import run_jobs

    results = run_jobs(jobs, workers=options.workers, scheduler=options.scheduler, progress=options.progress)
    failures = 0
    for sub, result in zip(graded, results):
        sub.result = result
        sub.flags += [f for f in result.flags if f not in sub.flags]
        (log_dir / sub.assignment).mkdir(exist_ok=True)
        (log_dir / sub.assignment / f"{sub.student}.log").write_text(result.log, encoding="utf-8")
        if result.status != "graded" and result.error.startswith("the grader failed"):
            failures += 1
    rows: list[TaskScore] = []
    for sub in submissions:
        _merge(course, sub, release_nbs[sub.assignment])
        rows += _rows(course, sub, release_nbs[sub.assignment])
        if sub.rejected or (sub.result and sub.result.status != "graded"):
            attention.append(f"{sub.student} {sub.assignment}: not graded: {sub.rejected or sub.result.error}")
        for flag in sub.flags:
            if not flag.startswith(("added-cell", "file-repaired", "metadata-restored", "changed-cell-type",
                                    "split-cell", "renamed-file", "unsandboxed")):
                attention.append(f"{sub.student} {sub.assignment}: {flag}")
    for assignment in to_grade:
        present = {s.student for s in submissions if s.assignment == assignment}
        gone = gb.forget_submissions(course, assignment, sorted(gb.submitted_students(course, assignment) - present))
        for student in gone:
            gb.remove_files(course, student, assignment)
            attention.append(f"{student} {assignment}: was in the gradebook but is no longer in submitted/: "
                             "removed from the gradebook and the exports")
    rows.sort(key=lambda r: (r.assignment, r.student))
    write_report(rows, course.root / REPORT)
    outputs = [REPORT]
    write_cohort_summary(rows, course.root / COHORT)
    outputs.append(COHORT)
    exported = write_exports(course.root, None, settings, course.root / ROSTER, course.root, report_rows=rows,
                             marked_late=marked_late,
                             submitted={(s.student, s.assignment) for s in submissions})
    outputs += [Path(p).name for p in exported.written if Path(p).name not in outputs]
    attention += list(exported.problems)
    _print_summary(out, rows)
    _say(out, "Written: " + ", ".join(outputs) + "; feedback for students in feedback/<student>/<assignment>/; "
              "nbgrader's log of each notebook in .grading/logs/.")
    if attention:
        _say(out, f"Needs your attention ({len(attention)}):")
        for line in dict.fromkeys(attention):
            _say(out, "  - " + line)
    _say(out, f"Done in {time.perf_counter() - started:.0f} s.")
    if failures:
        _say(out, f"{failures} submission(s) could not be graded because of the grader itself (see their logs).")
        return 1
    return 0


def _print_summary(out: TextIO, rows: list[TaskScore]) -> None:
    by_assignment: dict[str, set[str]] = {}
    for row in rows:
        by_assignment.setdefault(row.assignment, set()).add(row.student)
    if all(len(students) <= SUMMARY_TABLE_LIMIT for students in by_assignment.values()):
        _say(out, format_summary(rows, messages=False))
        return
    import pandas as pd

    frame = pd.DataFrame([r.__dict__ for r in rows])
    for assignment, these in frame.groupby("assignment"):
        passed = these.assign(earned=these["score"] >= these["max_score"]).groupby("task", sort=False)["earned"].mean()
        _say(out, f"Assignment {assignment}: {these['student'].nunique()} students; share earning each task:")
        _say(out, (passed * 100).round(0).astype(int).astype(str).add(" %").to_string())
