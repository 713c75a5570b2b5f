"""Grades out of the gradebook: the late policy, ``grades.csv`` and the learning platforms' import files.

Everything here reads nbgrader's gradebook (:class:`nbgrader.api.Gradebook`)
and writes, into one folder:

``grades.csv``
    One row per student of the gradebook and assignment: status, raw score,
    maximum, submission time, deadline, days late, penalty, final score and
    the sentence that explains the late penalty (:data:`GRADES_COLUMNS`).
``canvas_grades.csv``
    Canvas's Gradebook import file, for the students the roster maps to a
    Canvas user id (:func:`write_canvas`).
``moodle_grading_worksheet_<assignment>.csv``
    One Moodle offline grading worksheet per assignment, for the students the
    roster maps to a Moodle participant id (:func:`write_moodle`).

A cell is left **empty** where the student handed nothing in: an upload must
never post a 0 for work that may still come (nor for an assignment nobody has
submitted yet). A file that was handed in but could not be graded is in the
gradebook with every task at 0 and is exported as 0 (the grading report says
why). A submission whose score is not decided (a task without a score, or
an assignment whose late policy is invalid) is left empty too, and said so
in the returned problems.

The late policy (:class:`grader.settings.LatePolicy`, set in
``nbgrader_config.py``) is applied from the submission times in the
gradebook: :func:`late_penalty` decides the days late, the fraction lost and
why. nbgrader stores times without a zone (UTC when the platform's time had
one); a deadline written ``"YYYY-MM-DD HH:MM"`` is compared as it is, one
with a zone is converted to UTC first. An extension granted in the gradebook
(``Gradebook.grant_extension``) moves the student's deadline. If the
platform applies its own late policy on import (Canvas's "Late Policies"),
use one of the two, not both.

The pipeline calls :func:`write_exports`; ``nbgrader export`` can write the
same files (without the Canvas LATE markers, which only the intake knows)::

    nbgrader export --exporter=grader.export.GradesCsvExportPlugin
    nbgrader export --exporter=grader.export.CanvasExportPlugin --to canvas_grades.csv
    nbgrader export --exporter=grader.export.MoodleExportPlugin --to exports/

Settings of the platform files (``nbgrader_config.py``)::

    c.PlatformExportPlugin.roster = "roster.csv"          # relative to the course folder
    c.CanvasExportPlugin.assignment_ids = {"mf": 12345}  # Canvas's assignment ids: column "mf (12345)"
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from nbgrader.plugins import ExportPlugin
from traitlets import Dict, Int, TraitError, Unicode
from traitlets.config import Config

from grader.roster import Roster, RosterError, read_roster
from grader.settings import LatePolicy

GRADES_FILE = "grades.csv"
CANVAS_FILE = "canvas_grades.csv"
MOODLE_FILE = "moodle_grading_worksheet_{assignment}.csv"
ROSTER_FILE = "roster.csv"

#: The columns of ``grades.csv``.
GRADES_COLUMNS = ("student", "name", "assignment", "status", "raw_score", "max_score", "timestamp", "deadline",
                  "days_late", "penalty", "score", "late_note")

#: Status of a student's assignment in ``grades.csv``.
GRADED, NOT_GRADED, NOT_SUBMITTED, INCOMPLETE = "graded", "not graded", "not submitted", "incomplete"


#: Canvas's Gradebook import: the student columns its importer expects before the assignments
#: (canvas-lms ``app/models/gradebook_importer.rb``: the header must start with ``Student`` and ``ID`` and
#: the student columns must end with ``Section``).
CANVAS_STUDENT_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_POINTS_ROW = "Points Possible"

#: Moodle's offline grading worksheet (English language pack). The importer
#: (``mod/assign/feedback/offline/importgradeslib.php``) needs the first, ``Grade`` and ``Last modified (grade)``.
MOODLE_COLUMNS = ("Identifier", "Full name", "Status", "Grade", "Maximum Grade", "Last modified (submission)",
                  "Last modified (grade)")
MOODLE_PARTICIPANT = "Participant {id}"

SECONDS_PER_DAY = 86400.0
_DATE_ONLY = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")


# --------------------------------------------------------------------------- the late policy


@dataclass(frozen=True)
class Lateness:
    """What the late policy decides for one submission.

    Attributes:
        days_late: Started days after the deadline (1 minute late is 1 day); 0 when on time (or within the
            grace period); ``None`` when it cannot be told (no deadline, or no submission time).
        fraction: The fraction of the score lost, in [0, 1].
        reason: One sentence saying why, for ``grades.csv`` and the report.
    """

    days_late: int | None
    fraction: float
    reason: str


def parse_deadline(assignment: str, value: str) -> datetime:
    """A deadline of ``c.LatePolicy.deadlines`` as the gradebook's timestamps are stored (no zone).

    ``"2026-12-14 23:59"`` is taken as it is (the clock of the timestamps);
    ``"2026-12-14T23:59:00+01:00"`` (or ``...Z``) is converted to UTC.

    Raises:
        ValueError: When ``value`` is not a date and time, naming the assignment and the value.
    """
    where = f"c.LatePolicy.deadlines[{assignment!r}] = {value!r}"
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where} is not a date and time: write it as 'YYYY-MM-DD HH:MM' or ISO 8601 with a zone")
    if _DATE_ONLY.match(value):
        raise ValueError(f"{where} has no time of day: write the time too, e.g. '{value.strip()} 23:59'")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{where} is not a date and time: write it as 'YYYY-MM-DD HH:MM' (e.g. '2026-12-14 23:59') "
                         "or ISO 8601 with a zone (e.g. '2026-12-14T23:59:00+01:00')") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def check_late_policy(policy: LatePolicy, assignments: Iterable[str] | None = None) -> list[str]:
    """What is wrong with the late policy: bad deadlines, numbers out of range, unknown assignments."""
    problems = []
    for assignment, value in sorted(policy.deadlines.items()):
        try:
            parse_deadline(assignment, value)
        except ValueError as error:
            problems.append(str(error))
    if not 0.0 <= policy.penalty_per_day <= 1.0:
        problems.append(f"c.LatePolicy.penalty_per_day = {policy.penalty_per_day!r} is not a fraction between 0 and 1 "
                        "(0.1 takes 10 % off per started day)")
    for name in ("grace_minutes", "zero_after_days"):
        if getattr(policy, name) < 0:
            problems.append(f"c.LatePolicy.{name} = {getattr(policy, name)!r} is negative")
    if assignments is not None:
        known = sorted(set(assignments))
        for assignment in sorted(set(policy.deadlines) - set(known)):
            problems.append(f"c.LatePolicy.deadlines names {assignment!r}, which is not an assignment of the course "
                            f"(known: {', '.join(known) or 'none'})")
    return problems


def undecidable(policy: LatePolicy, assignment: str) -> str:
    """Why the late policy cannot decide ``assignment``'s penalties (its deadline or the policy's numbers are
    invalid), or ``""``. Such scores are left empty rather than exported without their penalty."""
    if assignment not in policy.deadlines:
        return ""
    for problem in check_late_policy(policy):
        if "deadlines[" not in problem or f"deadlines[{assignment!r}]" in problem:
            return problem
    return ""


def _duration(seconds: float) -> str:
    """``2 days 3 h``, ``1 h 5 min``, ``4 min``, ``30 s``: the two largest units."""
    seconds = int(round(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "day" if days == 1 else "days"), (hours, "h"), (minutes, "min"), (secs, "s")]
    first = next((i for i, (value, _) in enumerate(parts) if value), None)
    if first is None:
        return "0 s"
    return " ".join(f"{value} {unit}" for value, unit in parts[first:first + 2] if value)


def _moment(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M") + (f":{value.second:02d}" if value.second else "")


def _percent(fraction: float) -> str:
    return f"{round(fraction * 100, 2):g} %"


def late_penalty(policy: LatePolicy, assignment: str, timestamp: datetime | None, *,
                 extension: timedelta | None = None, marked_late: bool = False) -> Lateness:
    """Decide the late penalty of one submission.

    A submission is on time up to ``grace_minutes`` after the deadline (plus
    the student's extension). After that it is late by the number of
    *started* days since the deadline, ``d = ceil((t - deadline) / 1 day)``,
    and loses ``min(1, d * penalty_per_day)`` of its score; more than
    ``zero_after_days`` days after the deadline (when set) it loses all of it.

    Args:
        policy: The late policy (``c.LatePolicy``).
        assignment: The assignment, looked up in ``policy.deadlines``.
        timestamp: When it was submitted (as the gradebook stores it, no zone); ``None`` when unknown.
        extension: Extra time granted to this student (nbgrader's ``SubmittedAssignment.extension``).
        marked_late: The platform marked the submission late (Canvas puts ``LATE`` in the file name) without
            saying when it came.

    Raises:
        ValueError: When the assignment has a deadline and it is not a date, or the policy's numbers are out of
            range.
    """
    value = policy.deadlines.get(assignment)
    if value is None:
        return Lateness(None, 0.0, f"No deadline is set for {assignment} (c.LatePolicy.deadlines): no late penalty."
                        + (" The learning platform marked it late." if marked_late else ""))
    problem = undecidable(policy, assignment)
    if problem:
        raise ValueError(problem)
    deadline = parse_deadline(assignment, value)
    if timestamp is None:
        return Lateness(None, 0.0, "The learning platform marked it late (LATE in the file name), but no submission "
                                   "time was recorded, so no late penalty was applied: check the submission time on "
                                   "the platform." if marked_late else
                        "No submission time was recorded, so lateness cannot be told: no late penalty.")
    due = deadline + (extension or timedelta(0))
    when = f"the deadline ({_moment(deadline)})"
    if extension and extension > timedelta(0):
        when = f"the deadline ({_moment(due)}, with an extension of {_duration(extension.total_seconds())})"
    late = (timestamp - due).total_seconds()
    grace = policy.grace_minutes * 60.0
    if late <= 0:
        return Lateness(0, 0.0, f"On time: submitted before {when}.")
    if late <= grace:
        return Lateness(0, 0.0, f"Submitted {_duration(late)} after {when}, within the {policy.grace_minutes:g}-minute "
                                "grace period: on time.")
    days = math.ceil(late / SECONDS_PER_DAY)
    started = f"{days} started day{'s' if days != 1 else ''} late"
    opening = f"Submitted {_duration(late)} after {when}"
    if policy.zero_after_days > 0 and late > policy.zero_after_days * SECONDS_PER_DAY:
        return Lateness(days, 1.0, f"{opening}: more than {policy.zero_after_days:g} day"
                                   f"{'s' if policy.zero_after_days != 1 else ''} late, so the score is 0.")
    if policy.penalty_per_day <= 0:
        return Lateness(days, 0.0, f"{opening}: {started}; the late policy sets no penalty.")
    fraction = min(1.0, days * policy.penalty_per_day)
    return Lateness(days, fraction, f"{opening}: {started}, {_percent(fraction)} off "
                                    f"({_percent(policy.penalty_per_day)} per started day).")


# --------------------------------------------------------------------------- the roster


# --------------------------------------------------------------------------- reading the gradebook


@dataclass(frozen=True)
class GradeRow:
    """One student's grade for one assignment (a row of ``grades.csv``).

    Attributes:
        student, name, assignment: Who (name from the roster, else the gradebook) and what.
        status: ``graded``, ``not graded`` (handed in but could not be graded: 0 with the reason in the grading
            report), ``not submitted`` or ``incomplete`` (a task without a score, or one that waits for manual
            grading).
        raw_score: Points before the late penalty; ``None`` when not submitted.
        max_score: Points available.
        timestamp: When it was submitted (as stored in the gradebook), if known.
        deadline: The student's deadline (extension included), if one is set and valid.
        days_late: Started days late (0 on time); ``None`` when it cannot be told.
        penalty: Points taken off for lateness; ``None`` when not decided.
        score: The final score, ``raw_score - penalty``; ``None`` (an empty cell) when not submitted or not
            decided.
        late_note: Why the penalty is what it is (or why the score is empty).
    """

    student: str
    name: str
    assignment: str
    status: str
    raw_score: float | None
    max_score: float
    timestamp: datetime | None
    deadline: datetime | None
    days_late: int | None
    penalty: float | None
    score: float | None
    late_note: str


def _gradebook_name(student: Any) -> str:
    parts = [p for p in (student.first_name, student.last_name) if p]
    return " ".join(parts)


def collect_grades(gradebook: Any, assignments: Sequence[str], policy: LatePolicy, *,
                   students: Collection[str] | None = None, roster: Roster | None = None,
                   marked_late: Collection[tuple[str, str]] = (),
                   not_graded: Collection[tuple[str, str]] = ()) -> tuple[list[GradeRow], list[str]]:
    """One :class:`GradeRow` per student of the gradebook and assignment, and the problems met.

    Args:
        gradebook: An open :class:`nbgrader.api.Gradebook`.
        assignments: The assignments, in the order of the files' columns (each must be in the gradebook).
        policy: The late policy.
        students: Only these students (default: every student of the gradebook).
        roster: Names for the students (the gradebook's names otherwise).
        marked_late: ``(student, assignment)`` pairs the platform marked late (Canvas's ``LATE``).
        not_graded: ``(student, assignment)`` pairs handed in but not gradable (from the grading report).

    Raises:
        ValueError: When an assignment is not in the gradebook.
    """
    from nbgrader.api import Grade, MissingEntry, SubmittedAssignment, SubmittedNotebook
    from sqlalchemy import func

    roster = roster or Roster()
    problems: list[str] = []
    marked, failed = set(marked_late), set(not_graded)
    everyone = sorted(gradebook.students, key=lambda s: s.id)
    if students is not None:
        wanted = set(students)
        everyone = [s for s in everyone if s.id in wanted]
    rows = []
    for name in assignments:
        try:
            assignment = gradebook.find_assignment(name)
        except MissingEntry:
            known = ", ".join(sorted(a.name for a in gradebook.assignments)) or "none"
            raise ValueError(f"assignment {name!r} is not in the gradebook (known: {known})") from None
        max_score = float(assignment.max_score or 0.0)
        scores = {d["student"]: d for d in gradebook.submission_dicts(name)}
        submissions = {s.student_id: s for s in assignment.submissions}
        undecided = dict(
            gradebook.db.query(SubmittedAssignment.student_id, func.count(Grade.id))
            .join(SubmittedNotebook, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
            .join(Grade, Grade.notebook_id == SubmittedNotebook.id)
            .filter(SubmittedAssignment.assignment_id == assignment.id,
                    Grade.auto_score.is_(None), Grade.manual_score.is_(None))
            .group_by(SubmittedAssignment.student_id).all())
        bad_policy = undecidable(policy, name)
        deadline = None if bad_policy or name not in policy.deadlines else parse_deadline(name, policy.deadlines[name])
        if name not in policy.deadlines and assignment.duedate is not None:
            problems.append(f"{name}: the gradebook has a due date ({_moment(assignment.duedate)}) but "
                            "c.LatePolicy.deadlines has none for it, so no late penalty is applied")
        for student in everyone:
            label = roster.name(student.id) or _gradebook_name(student)
            submission = submissions.get(student.id)
            if submission is None:
                rows.append(GradeRow(student.id, label, name, NOT_SUBMITTED, None, max_score, None, None, None, None,
                                     None, "Nothing handed in."))
                continue
            raw = float(scores.get(student.id, {}).get("score") or 0.0)
            status = NOT_GRADED if (student.id, name) in failed else GRADED
            extension = submission.extension
            due = deadline + extension if deadline is not None and extension else deadline
            if undecided.get(student.id):
                rows.append(GradeRow(student.id, label, name, INCOMPLETE, raw, max_score, submission.timestamp, due,
                                     None, None, None, f"{undecided[student.id]} task(s) have no score yet "
                                     "(not autograded, or waiting for manual grading): no final score."))
                problems.append(f"{student.id}'s {name}: {undecided[student.id]} task(s) have no score yet (not "
                                "autograded, or waiting for manual grading): its score is left empty")
                continue
            if bad_policy:
                rows.append(GradeRow(student.id, label, name, status, raw, max_score, submission.timestamp, None,
                                     None, None, None, f"No final score: {bad_policy}."))
                continue
            lateness = late_penalty(policy, name, submission.timestamp, extension=extension,
                                    marked_late=(student.id, name) in marked)
            penalty = raw * lateness.fraction
            rows.append(GradeRow(student.id, label, name, status, raw, max_score, submission.timestamp, due,
                                 lateness.days_late, penalty, raw - penalty, lateness.reason))
    return rows, problems


# --------------------------------------------------------------------------- writing the files


def _number(value: float | None) -> str:
    """Two decimals at most, no trailing zeros; empty for ``None``."""
    if value is None:
        return ""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def write_grades_csv(rows: Sequence[GradeRow], path: str | Path) -> Path:
    """``grades.csv``: :data:`GRADES_COLUMNS`, empty score cells where nothing was handed in."""
    path = Path(path)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(GRADES_COLUMNS)
        for r in rows:
            writer.writerow([r.student, r.name, r.assignment, r.status, _number(r.raw_score), _number(r.max_score),
                             _when(r.timestamp), _when(r.deadline), "" if r.days_late is None else r.days_late,
                             _number(r.penalty), _number(r.score), r.late_note])
    return path


def canvas_column(assignment: str, assignment_ids: Mapping[str, int]) -> str:
    """The assignment's column header as Canvas exports it, ``"mf (12345)"``; ``"mf"`` without an id."""
    return f"{assignment} ({assignment_ids[assignment]})" if assignment in assignment_ids else assignment


def write_canvas(rows: Sequence[GradeRow], roster: Roster, assignments: Sequence[str], path: str | Path, *,
                 assignment_ids: Mapping[str, int] | None = None) -> tuple[Path | None, list[str]]:
    """Canvas's Gradebook import CSV, for the students the roster maps to a Canvas user id.

    The layout is that of Canvas's own Gradebook export, which its import
    reads back (Canvas Instructor Guide, "How do I import grades in the
    Gradebook?", https://community.canvaslms.com/t5/Instructor-Guide/How-do-I-import-grades-in-the-Gradebook/ta-p/807;
    the importer, canvas-lms ``app/models/gradebook_importer.rb``)::

        Student,ID,SIS User ID,SIS Login ID,Section,mf (12345),deep (12346)
        Points Possible,,,,,10,12
        "Smith, Jane",5012,,,,8,
        "Doe, John",5013,,,,0,11.5

    - ``ID`` is the Canvas user id; Canvas matches students by it first (then
      by SIS ids, then by name), so the SIS columns and ``Section`` stay empty.
    - An assignment column is ``"<name> (<Canvas assignment id>)"``; Canvas
      matches it by the id (``c.CanvasExportPlugin.assignment_ids``). Without
      an id it matches an assignment with exactly that title, or creates a
      new assignment: said in the problems.
    - The ``Points Possible`` row gives the points of a new assignment.
    - A blank cell is "no grade": for a student who handed nothing in.
      Canvas shows every change against its current grades for review before
      it applies them.

    Returns:
        The path written (``None`` when no student maps to Canvas) and the problems found.
    """
    assignment_ids = dict(assignment_ids or {})
    problems = [f"Canvas: no assignment id for {a} (c.CanvasExportPlugin.assignment_ids), so its column is named "
                f"{a!r}: Canvas puts the grades in an assignment titled exactly {a!r}, or creates a new one"
                for a in assignments if a not in assignment_ids]
    by_student: dict[str, dict[str, GradeRow]] = {}
    for r in rows:
        by_student.setdefault(r.student, {})[r.assignment] = r
    lines = []
    for student, grades in by_student.items():
        entry = roster.entry(student, "canvas")
        if entry is None:
            continue
        cells = [_number(grades[a].score) if a in grades else "" for a in assignments]
        if not entry.platform_id:
            if any(cells):
                problems.append(f"Canvas: {student} has no Canvas user id in the roster (row {entry.row}): left out "
                                f"of {Path(path).name}")
            continue
        first = next(iter(grades.values()))
        lines.append([entry.name or first.name or student, entry.platform_id, "", "", ""] + cells)
    if not lines:
        return None, problems
    path = Path(path)
    points = {r.assignment: r.max_score for r in rows}
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(list(CANVAS_STUDENT_COLUMNS) + [canvas_column(a, assignment_ids) for a in assignments])
        writer.writerow([CANVAS_POINTS_ROW, "", "", "", ""] + [_number(points.get(a)) for a in assignments])
        writer.writerows(lines)
    return path, problems


def write_moodle(rows: Sequence[GradeRow], roster: Roster, assignment: str, path: str | Path, *,
                 now: datetime | None = None) -> tuple[Path | None, list[str]]:
    """Moodle's offline grading worksheet of one assignment, for the students the roster maps to Moodle.

    Why the worksheet and not the gradebook's CSV import: "Download all
    submissions" names each student's folder ``<Full name>_<participant
    id>_assignsubmission_file_``, and the intake keeps that participant id.
    The worksheet identifies students by exactly that id (``Identifier`` =
    ``Participant <id>``), so the grades go back to the people the files came
    from. The gradebook's CSV import (Grades > Import > CSV file) can only map
    a user by id number, username or email, none of which the download
    contains. Participant ids are numbered per assignment activity (Moodle's
    ``assign_user_mapping``), so there is one worksheet per assignment and
    each is uploaded in its own assignment.

    Format (Moodle docs, "Assignment settings" > Feedback types > Offline
    grading worksheet, https://docs.moodle.org/en/Assignment_settings, and
    "Using Assignment" > Upload grading worksheet; the importer,
    ``mod/assign/feedback/offline/importgradeslib.php``)::

        Identifier,Full name,Status,Grade,Maximum Grade,Last modified (submission),Last modified (grade)
        Participant 30817,Jane Smith,graded,8,10,2026-12-14 22:10:05,2026-12-15T09:00:00+00:00
        Participant 30818,John Doe,not submitted,,10,,2026-12-15T09:00:00+00:00

    - The importer reads ``Identifier``, ``Grade`` and ``Last modified
      (grade)`` (their English names: a Moodle site in another language
      names the columns in it); the other columns are for the reader.
    - It skips an empty ``Grade``, so a student who handed nothing in keeps
      what Moodle has.
    - It skips a grade that was changed in Moodle after ``Last modified
      (grade)`` unless "Allow updating records that have been modified more
      recently in Moodle than in the spreadsheet" is ticked; the export time
      is written there, so grades typed in Moodle after the export win.
    - It skips a grade above the assignment's maximum grade in Moodle: set
      that to the assignment's points (``Maximum Grade``).
    - No ``Feedback comments`` column: its import replaces the comments
      already in Moodle, also with an empty one.

    Returns:
        The path written (``None`` when no student maps to Moodle) and the problems found.
    """
    stamp = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    problems = []
    lines = []
    for r in rows:
        if r.assignment != assignment:
            continue
        entry = roster.entry(r.student, "moodle", assignment)
        if entry is None or not entry.platform_id:
            if r.score is not None and (entry is not None or roster.entry(r.student, "moodle") is not None):
                where = f" (row {entry.row})" if entry is not None else ""
                problems.append(f"Moodle: {r.student} has no Moodle participant id for {assignment} in the roster"
                                f"{where}: left out of {Path(path).name}")
            continue
        lines.append([MOODLE_PARTICIPANT.format(id=entry.platform_id), entry.name or r.name or r.student, r.status,
                      _number(r.score), _number(r.max_score), _when(r.timestamp), stamp])
    if not lines:
        return None, problems
    path = Path(path)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(MOODLE_COLUMNS)
        writer.writerows(lines)
    return path, problems


# --------------------------------------------------------------------------- nbgrader's export plugins


class GradesCsvExportPlugin(ExportPlugin):
    """``nbgrader export --exporter=grader.export.GradesCsvExportPlugin``: ``grades.csv`` (see the module docstring).

    Unlike nbgrader's own CSV export it leaves the scores empty where nothing
    was handed in, and applies ``c.LatePolicy``.
    """

    def _course_root(self) -> Path:
        coursedir = getattr(self.parent, "coursedir", None)
        return Path(coursedir.root) if coursedir is not None else Path.cwd()

    def _policy(self) -> LatePolicy:
        return LatePolicy(config=self.config)

    def _assignments(self, gradebook: Any) -> list[str]:
        names = [str(a) for a in self.assignment]
        return names or [a.name for a in sorted(gradebook.assignments, key=lambda a: a.name)]

    def _rows(self, gradebook: Any, roster: Roster | None = None) -> list[GradeRow]:
        assignments = self._assignments(gradebook)
        policy = self._policy()
        for problem in check_late_policy(policy, [a.name for a in gradebook.assignments]):
            self.log.warning(problem)
        rows, problems = collect_grades(gradebook, assignments, policy,
                                        students=[str(s) for s in self.student] or None, roster=roster)
        for problem in problems:
            self.log.warning(problem)
        return rows

    def export(self, gradebook: Any) -> None:
        path = Path(self.to or GRADES_FILE)
        write_grades_csv(self._rows(gradebook), path)
        self.log.info("Wrote %s", path)


class PlatformExportPlugin(GradesCsvExportPlugin):
    """What the platform exports share: the roster."""

    roster = Unicode(ROSTER_FILE, help="The roster the intake writes (student,platform,name,platform_id), "
                                       "relative to the course folder.").tag(config=True)

    def _roster(self) -> Roster:
        path = Path(self.roster)
        if not path.is_absolute():
            path = self._course_root() / path
        return Roster(read_roster(path))


class CanvasExportPlugin(PlatformExportPlugin):
    """``nbgrader export --exporter=grader.export.CanvasExportPlugin``: Canvas's Gradebook import.

    See :func:`write_canvas`.
    """

    assignment_ids = Dict(
        value_trait=Int(), key_trait=Unicode(), default_value={},
        help='Assignment -> its Canvas assignment id (in the assignment\'s URL, .../assignments/12345), e.g. '
             '{"mf": 12345}; the column is then "mf (12345)", which Canvas matches by the id.').tag(config=True)

    def export(self, gradebook: Any) -> None:
        roster = self._roster()
        path, problems = write_canvas(self._rows(gradebook, roster), roster, self._assignments(gradebook),
                                      Path(self.to or CANVAS_FILE), assignment_ids=self.assignment_ids)
        for problem in problems:
            self.log.warning(problem)
        if path:
            self.log.info("Wrote %s", path)
        else:
            self.log.warning("No student of the roster is on Canvas: nothing written")


class MoodleExportPlugin(PlatformExportPlugin):
    """``nbgrader export --exporter=grader.export.MoodleExportPlugin --to FOLDER``: Moodle's grading worksheets
    (:func:`write_moodle`), one per assignment."""

    def export(self, gradebook: Any) -> None:
        roster = self._roster()
        rows = self._rows(gradebook, roster)
        folder = Path(self.to or ".")
        folder.mkdir(parents=True, exist_ok=True)
        for assignment in self._assignments(gradebook):
            path, problems = write_moodle(rows, roster, assignment, folder / MOODLE_FILE.format(assignment=assignment))
            for problem in problems:
                self.log.warning(problem)
            if path:
                self.log.info("Wrote %s", path)


EXPORT_PLUGINS = (GradesCsvExportPlugin, PlatformExportPlugin, CanvasExportPlugin, MoodleExportPlugin)


def check_export_config(config: Config) -> list[str]:
    """Settings of the export plugins in ``nbgrader_config.py`` that do not exist (a typo is reported, not ignored)."""
    problems = []
    for cls in EXPORT_PLUGINS:
        given = set(dict(config.get(cls.__name__, {})))
        known = set(cls.class_trait_names(config=True))
        problems += [f"c.{cls.__name__}.{name} is not a setting (known: {', '.join(sorted(known))})"
                     for name in sorted(given - known)]
    return problems


# --------------------------------------------------------------------------- the pipeline's entry point


@dataclass
class ExportSummary:
    """What :func:`write_exports` did.

    Attributes:
        written: The files written.
        problems: What the instructor must look at before uploading (one sentence each).
        grades: Every row of ``grades.csv``.
    """

    written: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    grades: list[GradeRow] = field(default_factory=list)

    def late(self) -> list[GradeRow]:
        """The rows that lost points for lateness."""
        return [r for r in self.grades if r.penalty]

    def format(self) -> str:
        """For the terminal: the files, the late penalties, the problems."""
        lines = [f"Grades exported: {', '.join(str(p) for p in self.written) or 'nothing'}"]
        late = self.late()
        if late:
            lines.append(f"Late penalties ({len(late)}):")
            lines += [f"  {r.student} {r.assignment} -{_number(r.penalty)}: {r.late_note}" for r in late]
        if self.problems:
            lines.append(f"Problems to check before uploading ({len(self.problems)}):")
            lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines) + "\n"


def _submitted_pairs(folder: Path) -> set[tuple[str, str]]:
    if not folder.is_dir():
        return set()
    return {(s.name, a.name) for s in folder.iterdir() if s.is_dir() for a in s.iterdir() if a.is_dir()}


def write_exports(course_dir: str | Path, assignments: Sequence[str] | None, settings: Any,
                  roster_path: str | Path | None, out_dir: str | Path, *,
                  report_rows: Sequence[Any] = (), marked_late: Collection[tuple[str, str]] = (),
                  submitted: Collection[tuple[str, str]] | None = None, gradebook_url: str | None = None,
                  now: datetime | None = None) -> ExportSummary:
    """Write ``grades.csv`` and the platforms' import files from the course's gradebook.

    Args:
        course_dir: The course folder (``gradebook.db`` and ``submitted/`` in it).
        assignments: The assignments, in column order (default: every assignment of the gradebook, by name).
        settings: :class:`grader.settings.Settings` (its ``late`` policy and its ``config`` for the export
            plugins' settings).
        roster_path: The intake's ``roster.csv``; ``None`` or a missing file: no platform files.
        out_dir: Where to write (created if needed).
        report_rows: The grading report's :class:`grader.report.TaskScore` rows, to tell ``not graded``
            submissions apart.
        marked_late: ``(student, assignment)`` pairs the platform marked late without a time (Canvas's
            ``LATE`` in the file name).
        submitted: ``(student, assignment)`` pairs present in ``submitted/`` (default: read from the folder,
            when it exists); a gradebook submission not among them is reported.
        gradebook_url: The gradebook (default ``sqlite:///<course_dir>/gradebook.db``).
        now: The export time written into Moodle's worksheets (default: now).

    Returns:
        The files written, the problems found (students without platform ids, bad deadlines, stale
        submissions, ...) and the grade rows.
    """
    from nbgrader.api import Gradebook

    from grader.course import Course

    course = Course(Path(course_dir))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = ExportSummary()
    policy = settings.late
    config = getattr(settings, "config", None) or Config()
    summary.problems += check_export_config(config)
    roster = Roster()
    if roster_path is not None and Path(roster_path).is_file():
        try:
            roster = Roster(read_roster(roster_path))
        except RosterError as error:
            summary.problems.append(f"{error}: no platform file written")
    not_graded = {(r.student, r.assignment) for r in report_rows if getattr(r, "status", "") == NOT_GRADED}
    url = gradebook_url or f"sqlite:///{course.gradebook}"
    course_id = config.get("CourseDirectory", {}).get("course_id") or "recsys"
    with Gradebook(url, course_id) as gradebook:
        recorded = [a.name for a in gradebook.assignments]
        names = list(assignments) if assignments is not None else sorted(recorded)
        summary.problems += check_late_policy(policy, set(recorded) | set(course.assignments()) | set(names))
        rows, problems = collect_grades(gradebook, names, policy, roster=roster, marked_late=marked_late,
                                        not_graded=not_graded)
        summary.problems += problems
        present = submitted if submitted is not None else (
            _submitted_pairs(course.submitted) if course.submitted.is_dir() else None)
        if present is not None:
            present = set(present)
            for assignment in names:
                for sub in gradebook.find_assignment(assignment).submissions:
                    if (sub.student_id, assignment) not in present:
                        summary.problems.append(
                            f"{sub.student_id}'s {assignment} is in the gradebook but not in "
                            f"submitted/{sub.student_id}/{assignment}/: its grade is still exported, check whether it "
                            "should count")
    summary.grades = rows
    for stale in [out / CANVAS_FILE] + [out / MOODLE_FILE.format(assignment=a) for a in names]:
        stale.unlink(missing_ok=True)  # an earlier run's file of what is exported now must not be uploaded instead
    summary.written.append(write_grades_csv(rows, out / GRADES_FILE))
    if not roster.entries:
        return summary
    in_roster = roster.students()
    scored = sorted({r.student for r in rows if r.score is not None})
    missing = [s for s in scored if s not in in_roster]
    if missing:
        summary.problems.append(f"{len(missing)} student(s) with grades are not in the roster, so they are in no "
                                f"platform file: {', '.join(missing)}")
    blackboard = sorted({e.student for e in roster.entries if e.platform == "blackboard"} & set(scored))
    if blackboard:
        summary.problems.append(f"{len(blackboard)} student(s) come from Blackboard, for which no import file is "
                                f"written: enter their grades from {GRADES_FILE} ({', '.join(blackboard)})")
    undecided = [a for a in names if undecidable(policy, a)]
    for assignment in undecided:
        summary.problems.append(f"{assignment} is left out of the platform files until c.LatePolicy is fixed")
    exported = [a for a in names if a not in undecided]
    platforms = roster.platforms()
    if "canvas" in platforms and exported:
        try:
            ids = dict(CanvasExportPlugin(config=config).assignment_ids)
        except TraitError as error:
            ids = {}
            summary.problems.append(f"c.CanvasExportPlugin.assignment_ids: {error}")
        path, problems = write_canvas(rows, roster, exported, out / CANVAS_FILE, assignment_ids=ids)
        summary.problems += problems
        if path:
            summary.written.append(path)
    if "moodle" in platforms:
        for assignment in exported:
            path, problems = write_moodle(rows, roster, assignment, out / MOODLE_FILE.format(assignment=assignment),
                                          now=now)
            summary.problems += problems
            if path:
                summary.written.append(path)
    return summary
