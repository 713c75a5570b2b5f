"""Reading submitted notebooks as they really arrive, and nbgrader's view of their cells.

Parsing, format upgrades and validation are nbformat's; what a cell is to
nbgrader (solution, test, locked, its grade id) is nbgrader's
(``nbgrader.utils``). What this module adds is the one thing those libraries
leave to the caller: a file that is not a usable notebook becomes a reason a
student and an instructor can read, instead of a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode
from nbgrader import utils as nbgrader_utils


class NotANotebook(ValueError):
    """The file cannot be graded as a notebook; the message says why, in words."""


def parse_notebook(raw: bytes, name: str = "the file") -> tuple[NotebookNode, list[str]]:
    """A notebook (nbformat 4) from a file's bytes, with notes on what was repaired.

    Accepts UTF-8 with or without a byte-order mark and nbformat 3 (upgraded
    to 4 by nbformat).

    Raises:
        NotANotebook: Empty, not JSON, not a notebook, or of an unknown format.
    """
    notes: list[str] = []
    if not raw.strip():
        raise NotANotebook(f"{name} is empty")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
        notes.append("the file starts with a UTF-8 byte-order mark (removed)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise NotANotebook(f"{name} is not text (byte {error.start} is not UTF-8): the file is damaged or "
                           "not a notebook") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise NotANotebook(f"{name} is not valid JSON (line {error.lineno}: {error.msg}): the file is damaged "
                           "or not a notebook") from None
    if not isinstance(data, dict) or "cells" not in data and "worksheets" not in data:
        raise NotANotebook(f"{name} is JSON but not a Jupyter notebook (no cells)")
    version = data.get("nbformat")
    if version not in (3, 4):
        raise NotANotebook(f"{name} is in notebook format {version!r}, which this grader cannot read: open it "
                           "in a current Jupyter, save it, and submit again")
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as error:  # noqa: BLE001 - nbformat raises several kinds
        raise NotANotebook(f"{name} is not a readable notebook ({type(error).__name__}: {error})") from None
    if version == 3:
        notes.append("saved in the old notebook format 3 (upgraded to 4)")
    if not isinstance(nb.get("cells"), list):
        raise NotANotebook(f"{name} is not a notebook (no list of cells)")
    return nb, notes


def read_notebook(path: str | Path) -> tuple[NotebookNode, list[str]]:
    """:func:`parse_notebook` on a file.

    Raises:
        NotANotebook: Also when the file cannot be read.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise NotANotebook(f"{path.name} cannot be read ({error.strerror})") from None
    return parse_notebook(raw, path.name)


def write_notebook(nb: NotebookNode, path: str | Path) -> None:
    """Write a notebook as nbformat 4 (UTF-8, one-space indent, as Jupyter does)."""
    Path(path).write_text(nbformat.writes(nb, version=4) + "\n", encoding="utf-8")


def source(cell: Any) -> str:
    """A cell's source as one string (nbformat allows a list of lines)."""
    text = cell.get("source", "")
    return text if isinstance(text, str) else "".join(text)


def grading_metadata(cell: Any) -> dict[str, Any]:
    """The cell's ``metadata.nbgrader`` (empty when missing or malformed)."""
    meta = cell.get("metadata") or {}
    value = meta.get("nbgrader") if isinstance(meta, dict) else None
    return dict(value) if isinstance(value, dict) else {}


def grade_id(cell: Any) -> str | None:
    """The cell's nbgrader ``grade_id``, if it has one."""
    value = grading_metadata(cell).get("grade_id")
    return value if isinstance(value, str) and value else None


def is_solution(cell: Any) -> bool:
    """An answer cell (nbgrader's ``solution``)."""
    return bool(grading_metadata(cell)) and nbgrader_utils.is_solution(cell)


def is_grade(cell: Any) -> bool:
    """A graded (test) cell."""
    return bool(grading_metadata(cell)) and nbgrader_utils.is_grade(cell)


def is_locked(cell: Any) -> bool:
    """A cell students must not edit (provided cells and tests)."""
    return bool(grading_metadata(cell)) and nbgrader_utils.is_locked(cell)


def checksum(cell: Any) -> str:
    """nbgrader's checksum of a cell (what ``nbgrader validate`` compares)."""
    return nbgrader_utils.compute_checksum(cell)


def normal_source(text: str) -> str:
    """A cell's source with trailing spaces and blank edges removed, for comparing cells across editors.

    More lenient than nbgrader's checksum, which counts trailing whitespace:
    editors strip or add it without the student doing anything.
    """
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").strip().splitlines())


def graded_cells(nb: Any) -> list[tuple[str, float]]:
    """``(grade_id, points)`` of every graded cell, in notebook order."""
    return [(grade_id(c), float(grading_metadata(c).get("points") or 0)) for c in nb["cells"] if is_grade(c)]
