"""The roster: which course student id is which account on a learning platform (``roster.csv``).

The intake (:mod:`grader.intake`) writes it from the names a platform's zip
carries; the exports (:mod:`grader.export`) read it to send grades back to
the same accounts. One row per platform account::

    student,platform,name,platform_id,assignment
    smithjane,canvas,,1001,
    123457,moodle,Ann Lee,123457,mf

``platform_id`` is the Canvas user id, the Blackboard username or the Moodle
participant id (empty for Canvas's anonymous grading); ``assignment`` names
the assignment a Moodle participant id belongs to (Moodle numbers
participants per assignment activity), empty for ids that hold course-wide.
Plain zips use the course's own ids and have no rows. Student work: the file
is ignored by git.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROSTER_FIELDS = ("student", "platform", "name", "platform_id", "assignment")
#: The columns a roster must have (``assignment`` may be missing in a hand-made file).
ROSTER_COLUMNS = tuple(f for f in ROSTER_FIELDS if f != "assignment")
PLATFORMS = {"canvas": "Canvas", "moodle": "Moodle", "blackboard": "Blackboard"}
PLATFORM_ID_NAMES = {"canvas": "Canvas user id", "moodle": "Moodle participant id", "blackboard": "Blackboard username"}


class RosterError(ValueError):
    """``roster.csv`` cannot be used (the message names the file, the row and what is wrong)."""


@dataclass(frozen=True)
class RosterRow:
    """One row of ``roster.csv``: a course student id and who that is on a learning platform.

    Attributes:
        student: The course's student id (the folder under ``submitted/``).
        platform: ``canvas``, ``moodle`` or ``blackboard``.
        name: The name the platform gave (may be empty).
        platform_id: Canvas user id, Moodle participant id or Blackboard username (empty when unknown).
        assignment: The assignment the id holds for, or ``""`` for every assignment. Moodle's participant ids
            are numbered per assignment activity, so a roster that covers several Moodle assignments needs it.
        row: The row number in the file (the header is row 1).
    """

    student: str
    platform: str
    name: str
    platform_id: str
    assignment: str = ""
    row: int = field(default=0, compare=False)


def read_roster(path: str | Path) -> list[RosterRow]:
    """The rows of the intake's ``roster.csv`` (:func:`grader.intake.write_roster`), checked (none when the file does not exist).

    Columns ``student,platform,name,platform_id,assignment`` (``assignment``
    may be missing). An empty ``platform_id`` is allowed (Canvas's anonymous
    grading): such a student is reported, not exported.

    Raises:
        RosterError: A missing column, an empty student id, an unknown platform, a Canvas or Moodle id that is
            not a number, or an ambiguous mapping (one student with two ids, or one id for two students, for the
            same platform and assignment). The message names the file and the row.
    """
    path = Path(path)
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in ROSTER_COLUMNS if c not in header]
        if missing:
            raise RosterError(f"{path}: the header has no column {missing[0]!r} (expected {','.join(ROSTER_COLUMNS)}, "
                              f"found {','.join(header) or 'nothing'})")
        reader.fieldnames = header
        entries = []
        for number, raw in enumerate(reader, start=2):
            row = {k: (v or "").strip() for k, v in raw.items() if k is not None}
            if not any(row.values()):
                continue
            platform = row["platform"].lower()
            if not row["student"]:
                raise RosterError(f"{path}, row {number}: the student id is empty")
            if platform not in PLATFORMS:
                raise RosterError(f"{path}, row {number}: platform {row['platform']!r} is not one of "
                                  f"{', '.join(PLATFORMS)}")
            if platform in ("canvas", "moodle") and row["platform_id"] and not row["platform_id"].isdigit():
                raise RosterError(f"{path}, row {number}: the {PLATFORM_ID_NAMES[platform]} of {row['student']} is "
                                  f"{row['platform_id']!r}, not a number")
            entries.append(RosterRow(row["student"], platform, row["name"], row["platform_id"],
                                       row.get("assignment", ""), number))
    ids: dict[tuple[str, str, str], RosterRow] = {}
    owners: dict[tuple[str, str, str], RosterRow] = {}
    for entry in entries:
        key = (entry.student, entry.platform, entry.assignment)
        seen = ids.get(key)
        if seen and seen.platform_id and entry.platform_id and seen.platform_id != entry.platform_id:
            raise RosterError(f"{path}, row {entry.row}: {entry.student} has {PLATFORM_ID_NAMES[entry.platform]} "
                              f"{entry.platform_id}, but {seen.platform_id} on row {seen.row}")
        if not seen or (entry.platform_id and not seen.platform_id):
            ids[key] = entry
        if entry.platform_id:
            owner_key = (entry.platform, entry.assignment, entry.platform_id)
            owner = owners.setdefault(owner_key, entry)
            if owner.student != entry.student:
                raise RosterError(f"{path}, row {entry.row}: {PLATFORM_ID_NAMES[entry.platform]} {entry.platform_id} "
                                  f"is given to {entry.student} and to {owner.student} (row {owner.row})")
    return entries


@dataclass
class Roster:
    """The roster, looked up by student: :meth:`entry` gives the row that holds for an assignment."""

    entries: list[RosterRow] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_student: dict[str, list[RosterRow]] = {}
        for entry in self.entries:
            self._by_student.setdefault(entry.student, []).append(entry)

    def students(self) -> set[str]:
        return set(self._by_student)

    def platforms(self) -> set[str]:
        return {e.platform for e in self.entries}

    def entry(self, student: str, platform: str, assignment: str | None = None) -> RosterRow | None:
        """The student's row for the platform: the assignment's own row first, then a row for every assignment
        (``assignment=None``: any row, for ids that hold course-wide such as Canvas's user ids)."""
        rows = [e for e in self._by_student.get(student, []) if e.platform == platform]
        if assignment is None:
            return next((e for e in rows if e.platform_id), rows[0] if rows else None)
        for scope in (assignment, ""):
            found = [e for e in rows if e.assignment == scope]
            if found:
                return next((e for e in found if e.platform_id), found[0])
        return None

    def name(self, student: str) -> str:
        return next((e.name for e in self._by_student.get(student, []) if e.name), "")


def write_roster(rows: Iterable[RosterRow], path: str | Path) -> None:
    """Write ``roster.csv`` (``student,platform,name,platform_id,assignment``), sorted by student."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=ROSTER_FIELDS)
        writer.writeheader()
        for row in sorted(rows, key=lambda r: (r.student, r.platform, r.platform_id)):
            writer.writerow({k: v for k, v in asdict(row).items() if k in ROSTER_FIELDS})
