"""The copy of a submission that nbgrader grades: the student's code, the release's structure.

Students' tools change notebooks in ways that have nothing to do with their
answers: JupyterLab splits a cell (both halves keep its metadata), a stray
keypress turns a code cell into Markdown, VS Code drops every cell's
metadata, Colab adds its own notebook metadata (a widget block nbconvert
cannot render), students paste ``%pip install`` lines. :func:`stage` keeps
what nbgrader would keep, the student's code, and repairs the rest:

1. Each cell of the submission is matched to a cell of the release: by its
   nbgrader ``grade_id``; without metadata, a provided cell by its text
   (in any release of the assignment, :mod:`grader.releases`) and an answer
   cell by its position between the provided cells around it.
2. Matched cells get the release's nbgrader metadata and cell type back (an
   answer cell turned into Markdown is graded as code, with its text); a cell
   that appears twice (split or copied) keeps its first copy's metadata and
   every copy's code runs in order; provided cells the student deleted are put
   back; cells the student added run as written.
3. IPython shell lines and package installs (``!ls``, ``%pip install``) are
   commented out (they would run processes in the grader); the notebook's
   metadata is the release's (no foreign widget state or kernels).

Everything unusual becomes a flag for the instructor (see
:mod:`grader.inspection`); nothing here changes what the student's code does.
A file that is not this assignment's notebook is refused with a reason that
says what is missing.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell

from grader import notebooks as nbs
from grader.inspection import Flag, neutralise_shell, scan_code
from grader.releases import text_hash

#: Share of the release's provided cells a submission must contain to count as this assignment's notebook.
MIN_PROVIDED_SHARE = 0.5


class NotThisNotebook(ValueError):
    """The submission is not (recognisably) this assignment's notebook; the message says why."""


@dataclass
class Staged:
    """A graded copy and what was found on the way."""

    notebook: NotebookNode
    flags: list[Flag] = field(default_factory=list)
    student_cells: dict[str, str] = field(default_factory=dict)  # cell label -> the student's code, for scans


def _release_index(release: NotebookNode) -> tuple[list[str | None], dict[str, NotebookNode]]:
    ids = [nbs.grade_id(c) for c in release.cells]
    return ids, {gid: c for gid, c in zip(ids, release.cells) if gid}


def _match(nb: NotebookNode, release: NotebookNode, known_sources: Mapping[str, set[str]]) -> list[str | None]:
    """For each submitted cell, the release cell (grade id) it is, or None for the student's own cells."""
    release_ids, by_id = _release_index(release)
    provided: dict[str, str] = {}
    for gid, cell in by_id.items():
        if nbs.is_locked(cell) and not nbs.is_solution(cell):
            for fingerprint in {text_hash(nbs.source(cell)), *known_sources.get(gid, set())}:
                provided.setdefault(fingerprint, gid)
    matched: list[str | None] = []
    for cell in nb.cells:
        gid = nbs.grade_id(cell)
        if gid in by_id:
            matched.append(gid)
        else:
            matched.append(provided.get(text_hash(nbs.source(cell))) if nbs.source(cell).strip() else None)
    # Answer cells without metadata: by position, between the provided cells around them in the release.
    order = {gid: i for i, gid in enumerate(release_ids) if gid}
    for r_index, gid in enumerate(release_ids):
        if not gid or gid in matched or not nbs.is_solution(by_id[gid]):
            continue
        before = max((order[g] for g in matched if g and order[g] < r_index), default=-1)
        after = min((order[g] for g in matched if g and order[g] > r_index), default=len(release_ids))
        start = max((j for j, g in enumerate(matched) if g and order[g] == before), default=-1)
        end = min((j for j, g in enumerate(matched) if g and order[g] == after), default=len(matched))
        wanted = by_id[gid].cell_type
        candidates = [j for j in range(start + 1, end) if matched[j] is None and nb.cells[j].cell_type == wanted
                      and nbs.source(nb.cells[j]).strip()]
        if not candidates and wanted == "code":  # an answer cell turned into Markdown, without metadata
            candidates = [j for j in range(start + 1, end) if matched[j] is None and nbs.source(nb.cells[j]).strip()]
        if candidates:
            matched[candidates[0]] = gid
    return matched


def _as_type(cell: NotebookNode, cell_type: str) -> NotebookNode:
    """The cell with ``cell_type``, keeping its text, id and metadata."""
    if cell.cell_type == cell_type:
        return cell
    new = new_code_cell(nbs.source(cell)) if cell_type == "code" else new_markdown_cell(nbs.source(cell))
    new.metadata = copy.deepcopy(cell.get("metadata", {}))
    if "id" in cell:
        new["id"] = cell["id"]
    return new


def _cell_id(text: str, used: set[str]) -> str:
    base = hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
    candidate, n = base, 0
    while candidate in used:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def stage(nb: NotebookNode, release: NotebookNode, *, known_sources: Mapping[str, set[str]] | None = None,
          notebook: str = "the notebook") -> Staged:
    """The graded copy of ``nb`` (see the module docstring).

    Args:
        nb: The submitted notebook.
        release: The released notebook the student received (its current version).
        known_sources: Grade id -> fingerprints (:func:`grader.releases.text_hash`) of that provided cell in
            every release of the assignment (an instructor's later edit of a provided cell is not the student's).
        notebook: The file name, for messages.

    Raises:
        NotThisNotebook: When fewer than half of the release's provided cells are in the submission.
    """
    known_sources = known_sources or {}
    release_ids, by_id = _release_index(release)
    matched = _match(nb, release, known_sources)
    provided = [gid for gid, c in by_id.items() if nbs.is_locked(c) and not nbs.is_solution(c)]
    found = {g for g in matched if g}
    if provided and len(found & set(provided)) < MIN_PROVIDED_SHARE * len(provided):
        if not any(nbs.grading_metadata(c) for c in nb.cells):
            raise NotThisNotebook(f"{notebook} has no nbgrader metadata (an editor may have removed it), and only "
                                  f"{len(found & set(provided))} of the {len(provided)} provided cells of the released "
                                  f"{notebook} are in it: it is another notebook. Hand in the released notebook with "
                                  "your answers")
        raise NotThisNotebook(f"{notebook} contains {len(found & set(provided))} of the {len(provided)} provided cells "
                              f"of the released {notebook}: it is another assignment's notebook, or not the released "
                              "notebook")
    staged = Staged(copy.deepcopy(nb))
    flags = staged.flags
    if not any(nbs.grading_metadata(c) for c in nb.cells):
        flags.append(Flag("metadata-restored", "", "the notebook had no nbgrader metadata (an editor removed it): "
                                                   "its cells were matched to the release by their text and position"))
    cells: list[NotebookNode] = []
    seen: set[str] = set()
    position = {gid: i for i, gid in enumerate(release_ids) if gid}
    for index, (cell, gid) in enumerate(zip(nb.cells, matched)):
        label = gid or f"cell {index + 1}"
        split = False
        cell = copy.deepcopy(cell)
        original = by_id.get(gid) if gid else None
        if original is not None and gid in seen:
            if nbs.is_solution(original):
                flags.append(Flag("split-cell", gid, "this answer cell appears more than once (split or copied): "
                                                     "every copy's code runs, in order"))
                cell.setdefault("metadata", {}).pop("nbgrader", None)
                split = True
                original = None
            else:
                flags.append(Flag("duplicate-cell", gid, "a provided or test cell appears more than once: the first "
                                                         "copy is graded, the others are left out"))
                continue
        if original is not None:
            seen.add(gid)
            if cell.cell_type != original.cell_type:
                flags.append(Flag("changed-cell-type", gid, f"{original.cell_type} cell turned into {cell.cell_type}: "
                                                            f"graded as {original.cell_type}, with the student's text"))
                cell = _as_type(cell, original.cell_type)
            if nbs.grading_metadata(cell) and any(nbs.grading_metadata(cell).get(k) != nbs.grading_metadata(original).get(k)
                                                  for k in ("grade", "solution", "locked", "points")):
                flags.append(Flag("changed-grading-metadata", gid, "its nbgrader metadata (points, lock, grade) was "
                                                                   "edited: the release's is used"))
            cell.setdefault("metadata", {})["nbgrader"] = copy.deepcopy(original.metadata["nbgrader"])
            if nbs.is_locked(original) and not nbs.is_solution(original):
                fingerprint = text_hash(nbs.source(cell))
                if fingerprint != text_hash(nbs.source(original)) and fingerprint not in known_sources.get(gid, set()):
                    flags.append(Flag("edited-locked-cell", gid, "a provided or test cell was edited: the release's "
                                                                 "is used"))
                cells.append(cell)
                continue
        else:
            if nbs.grading_metadata(cell):
                flags.append(Flag("added-cell", label, "a cell with nbgrader metadata of no released cell: run as an "
                                                       "ordinary cell"))
                cell.metadata.pop("nbgrader", None)
            elif cell.cell_type == "code" and nbs.source(cell).strip() and not split:
                flags.append(Flag("added-cell", label, "a code cell not in the released notebook: run as written"))
        if cell.cell_type == "code":
            text, changed = neutralise_shell(nbs.source(cell))
            staged.student_cells[label] = nbs.source(cell)
            cell.source = text
            flags.extend(scan_code(staged.student_cells[label], label))
            if changed:
                cell.outputs = []
        cells.append(cell)
    # Provided and answer cells the student deleted come back from the release, where they were.
    for gid in [g for g in release_ids if g and g not in seen]:
        original = by_id[gid]
        kind = "answer" if nbs.is_solution(original) else "test" if nbs.is_grade(original) else "provided"
        flags.append(Flag("deleted-answer-cell" if kind == "answer" else "deleted-locked-cell", gid,
                          f"a {kind} cell was deleted: the release's was put back"))
        before = [g for g in release_ids[: position[gid]] if g]
        at = max((j + 1 for j, c in enumerate(cells) if nbs.grade_id(c) in before), default=0)
        cells.insert(at, copy.deepcopy(original))
    used: set[str] = set()
    for cell in cells:
        cid = cell.get("id")
        if not isinstance(cid, str) or not re.fullmatch(r"[a-zA-Z0-9-_]{1,64}", cid) or cid in used:
            cell["id"] = _cell_id(nbs.source(cell) + str(len(used)), used)
        used.add(cell["id"])
        cell.get("metadata", {}).pop("colab", None)
        cell.get("metadata", {}).pop("executionInfo", None)
        cell.get("metadata", {}).pop("outputId", None)
        if cell.cell_type == "code":
            cell.setdefault("outputs", [])
            cell.setdefault("execution_count", None)
    staged.notebook.cells = cells
    staged.notebook.metadata = copy.deepcopy(release.metadata)
    staged.notebook.nbformat, staged.notebook.nbformat_minor = 4, max(5, int(release.get("nbformat_minor", 5)))
    staged.flags = list(dict.fromkeys(flags))
    return staged
