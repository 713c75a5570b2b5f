"""Every release students received, kept so that they are graded against their own.

``make release`` regenerates ``exercises/`` from ``solutions/`` and appends
to ``exercises/release-history.json`` the fingerprint of each provided cell
of each released notebook (a hash of its text with trailing spaces ignored),
and of the instructor's notebook it came from. The grader uses it two ways:

* a provided cell that matches *any* release is not the student's edit
  (an instructor who fixed a typo after handing out the notebook does not
  get every earlier submission flagged); it also locates the provided cells
  of a notebook whose metadata an editor removed;
* ``make grade`` warns when ``solutions/`` changed since the last release
  (and refuses when that changes what students receive: run ``make release``).

Format::

    {"mf": {"mf.ipynb": [{"released": "2026-11-30T10:00:00+00:00",
                          "solutions_sha256": "...", "cells": {"setup-imports": "<hash>", ...}}, ...]}}
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from grader import notebooks as nbs
from grader.course import Course

HISTORY_FILE = "release-history.json"


def text_hash(text: str) -> str:
    """The fingerprint of a cell's text (trailing spaces and blank edges ignored)."""
    return hashlib.sha256(nbs.normal_source(text).encode("utf-8")).hexdigest()[:16]


def provided_cells(nb: Any) -> dict[str, str]:
    """Grade id -> fingerprint of every provided (locked, non-answer) cell of a released notebook."""
    return {nbs.grade_id(c): text_hash(nbs.source(c)) for c in nb.cells
            if nbs.grade_id(c) and nbs.is_locked(c) and not nbs.is_solution(c)}


def history_path(course: Course) -> Path:
    return course.exercises / HISTORY_FILE


def read_history(course: Course) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """The release history (empty when there is none yet)."""
    path = history_path(course)
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def record_release(course: Course, assignment: str, *, when: datetime | None = None) -> bool:
    """Append the current release of ``assignment`` to the history if it differs from the last; True if appended."""
    history = read_history(course)
    changed = False
    for name, path in course.release_notebooks(assignment).items():
        solutions = course.solutions / assignment / name
        entry = {
            "released": (when or datetime.now(timezone.utc)).replace(microsecond=0).isoformat(),
            "solutions_sha256": hashlib.sha256(solutions.read_bytes()).hexdigest() if solutions.is_file() else "",
            "cells": provided_cells(nbs.read_notebook(path)[0]),
        }
        entries = history.setdefault(assignment, {}).setdefault(name, [])
        if entries and {k: entries[-1][k] for k in ("solutions_sha256", "cells")} == \
                {k: entry[k] for k in ("solutions_sha256", "cells")}:
            continue
        entries.append(entry)
        changed = True
    if changed:
        history_path(course).write_text(json.dumps(history, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return changed


def known_sources(course: Course, assignment: str, notebook: str) -> dict[str, set[str]]:
    """Grade id -> the fingerprints of that provided cell in every release of the assignment."""
    known: dict[str, set[str]] = {}
    for entry in read_history(course).get(assignment, {}).get(notebook, []):
        for gid, fingerprint in entry["cells"].items():
            known.setdefault(gid, set()).add(fingerprint)
    return known


def solutions_changed(course: Course, assignment: str) -> list[str]:
    """The instructor notebooks of ``assignment`` that changed since the last recorded release."""
    history = read_history(course).get(assignment, {})
    changed = []
    for name in course.release_notebooks(assignment):
        solutions = course.solutions / assignment / name
        entries = history.get(name, [])
        if solutions.is_file() and (not entries or entries[-1]["solutions_sha256"]
                                    != hashlib.sha256(solutions.read_bytes()).hexdigest()):
            changed.append(f"solutions/{assignment}/{name}")
    return changed


# --------------------------------------------------------------------------- points, defined once

_POINTS_TEXT = re.compile(r"\((\d+(?:\.\d+)?) points?\)")
_TABLE_ROW = re.compile(r"^(\|\s*(?:Task \d+|Training)\b.*\|\s*)(\d+(?:\.\d+)?)(\s*\|\s*)$")
_TOTAL_ROW = re.compile(r"(\*\*Total\*\*\s*\|\s*\*\*)(\d+(?:\.\d+)?)(\*\*)")


def _points(value: float, unit: bool = False) -> str:
    text = f"{value:g}"
    return f"({text} point{'' if value == 1 else 's'})" if unit else text


def sync_points(nb: Any, name: str = "the notebook") -> list[str]:
    """Make the points the text states follow the graded cells' metadata (the one definition of each task's points).

    In the Markdown cells, the ``(N points)`` mentions outside tables and the
    rows of the overview table (``| Task 1 | ... | N |``, ``| Training | ... | N |``)
    name the graded cells in notebook order; the table's ``**Total**`` is their sum.

    Returns:
        What was changed, in words (empty when the text already agreed).

    Raises:
        ValueError: When the mentions do not match the graded cells one to one.
    """
    points = [p for _, p in nbs.graded_cells(nb)]
    markdown = [c for c in nb.cells if c.cell_type == "markdown"]
    lines_of = {id(c): nbs.source(c).split("\n") for c in markdown}
    mentions = [(id(c), i) for c in markdown for i, line in enumerate(lines_of[id(c)])
                if not line.lstrip().startswith("|") for _ in _POINTS_TEXT.finditer(line)]
    rows = [(id(c), i) for c in markdown for i, line in enumerate(lines_of[id(c)]) if _TABLE_ROW.match(line)]
    for what, found in (("'(N points)' mentions", mentions), ("overview table rows", rows)):
        if found and len(found) != len(points):
            raise ValueError(f"{name}: {len(found)} {what} for {len(points)} graded cells: the text must name each "
                             "graded task once, in notebook order")
    changes: list[str] = []
    mention_points = iter(points)
    for cell in markdown:
        lines = lines_of[id(cell)]
        for i, line in enumerate(lines):
            if line.lstrip().startswith("|"):
                match = _TABLE_ROW.match(line)
                if match:
                    wanted = _points(points[rows.index((id(cell), i))])
                    lines[i] = f"{match.group(1)}{wanted}{match.group(3)}"
                lines[i] = _TOTAL_ROW.sub(lambda m: f"{m.group(1)}{_points(sum(points))}{m.group(3)}", lines[i])
            else:
                lines[i] = _POINTS_TEXT.sub(lambda m: _points(next(mention_points), unit=True), line)
        text = "\n".join(lines)
        if text != nbs.source(cell):
            changes.append(f"{name}: points text updated in the cell {nbs.grade_id(cell) or '(markdown)'}")
            cell.source = text
    return changes


def release(course: Course, assignments: list[str] | None = None) -> list[str]:
    """``make release``: points text synced in ``solutions/``, ``exercises/`` generated (nbgrader), history recorded.

    Returns:
        One line per assignment saying what happened.
    """
    from grader.course import course_config, generate_assignment

    said = []
    for assignment in assignments or course.assignments():
        for path in sorted((course.solutions / assignment).glob("*.ipynb")):
            nb = nbs.read_notebook(path)[0]
            changes = sync_points(nb, f"solutions/{assignment}/{path.name}")
            if changes:
                nbs.write_notebook(nb, path)
                said += changes
        generate_assignment(course_config(course.root), assignment, f"release {assignment}")
        recorded = record_release(course, assignment)
        said.append(f"released {assignment}: exercises/{assignment}/" + (" (recorded in exercises/release-history.json)"
                                                                        if recorded else " (unchanged)"))
    return said


def main(argv: list[str] | None = None) -> int:
    """``python -m grader.releases [ASSIGNMENT ...]`` (what ``make release`` runs)."""
    import argparse

    from grader.course import REPO_ROOT

    parser = argparse.ArgumentParser(description="Regenerate exercises/ from solutions/ and record the release.")
    parser.add_argument("assignments", nargs="*", help="assignments to release (default: all in solutions/)")
    parser.add_argument("--course-dir", type=Path, default=REPO_ROOT)
    args = parser.parse_args(argv)
    for line in release(Course(args.course_dir.resolve()), args.assignments or None):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
