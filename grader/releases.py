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
