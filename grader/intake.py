"""Importing a learning platform's zip of submissions into ``submitted/``, losing nobody.

:func:`collect_archive` reads the zip an instructor downloads from Canvas,
Blackboard or Moodle (or a plain zip of student folders), writes each
student's notebook to ``submitted/<student>/<assignment>/<notebook>.ipynb``
(with nbgrader's ``timestamp.txt`` when the platform gives a time) and
returns one :class:`IntakeEntry` per file in the zip, saying what became of
it and why. No file is dropped without an entry, one student's files never
stop the batch, and nothing in ``nbgrader_config.py`` has to be edited for a
platform.

File names, as the platforms write them
---------------------------------------
Canvas, "Download Submissions" (``lib/content_zipper.rb`` in canvas-lms)::

    <name>_<user id>_<file id>_<uploaded name>          smithjane_1001_5001_mf.ipynb
    <name>_LATE_<user id>_<file id>_<uploaded name>     smithjane_LATE_1001_5001_mf.ipynb
    anon_<anonymous id>_<file id>_<uploaded name>       anonymous grading
    <name>_<user id>_text.html, ..._link.html           text and URL entries (not notebooks)

``<name>`` is the student's sortable name, lower case, without punctuation
(non-ASCII letters kept). Canvas itself renames a re-submitted file of the
same name ``mf-1.ipynb``, ``mf-2.ipynb`` (``Attachment.make_unique_filename``).
The student id is ``<name>``; the roster keeps the user id.

Blackboard, "Download Assignment" (all attempts or the last)::

    <Assignment title>_<username>_attempt_<YYYY-MM-DD-HH-MM-SS>_<uploaded name>
    <Assignment title>_<username>_attempt_<YYYY-MM-DD-HH-MM-SS>.txt     the receipt

The receipt (status ``receipt``) gives the full name (``Name: Jane Smith
(jsmith)``), which resolves usernames that contain ``_``, and each file's
``Original filename`` (Blackboard sometimes mangles the name in the zip).
Dutch installations write ``_poging_`` for ``_attempt_``. The student id is
the username; the time (the server's local time) goes to ``timestamp.txt``.

Moodle, "Download all submissions" (``mod/assign``: one folder per student
since Moodle 3.1, a file-name prefix before that or with the option off)::

    <Full Name>_<participant id>_assignsubmission_file/<uploaded name>   (older: ..._file_/)
    <Full Name>_<participant id>_assignsubmission_file_<uploaded name>
    Participant_<participant id>_assignsubmission_file/...               blind marking

The student id is the participant id; the full name goes to the entry and the
roster. Moodle numbers participants per assignment (a row of one site-wide
table, ``assign_user_mapping``), so an id is one person in one assignment and
the same person has another id in the next assignment's zip; the roster
records each id's assignment (what Moodle's grading worksheet expects back).

Plain zips (an instructor's own collection)::

    <student>_<notebook>.ipynb        studenta_mf.ipynb, jane_doe_mf (1).ipynb
    <student>/<notebook>.ipynb        any folder depth above; the folder is the student
    <student>/<assignment>/<file>     a zipped ``submitted/`` (its timestamp.txt is read)

A zip a student uploaded (``smithjane_1001_5001_work.zip``) is opened and its
files are listed as ``<member>!/<inner path>``, as that student's uploads.

Rules
-----
* Which notebook: the uploaded file's name, after removing what platforms,
  browsers and editors add to a re-uploaded or copied file (``mf (1)``,
  ``mf-1``, ``mf-Copy1``, ``mf_1``, ``mf - Copy``, ``Copy of mf``), matched to
  the release notebooks (``exercises/<assignment>/*.ipynb``) without regard to
  case; in a ``<student>/<assignment>/`` folder, the folder says. When the name
  says nothing (``Untitled.ipynb``, ``homework.ipynb``): the cells, by their
  nbgrader ``grade_id``s or, when an editor stripped the metadata, by the text
  of the release's provided (locked) cells, in any release of the assignment
  (``exercises/release-history.json``); at least :data:`MIN_SHARE` of them.
  Failing both, a name that contains a notebook's name as a word
  (``mf_final``). Failing all, the import's only assignment, or the only
  assignment the zip's other notebooks belong to (platform zips hold one
  assignment): collected and flagged.
* A file whose name says ``mf`` but whose cells are another release's is
  collected as ``mf`` (the student handed it in for ``mf``) and flagged; the
  grader scores it with its reason.
* One student, one notebook, several files: the latest platform time wins
  (Blackboard attempts); then a readable notebook of this assignment over an
  unreadable or foreign one; then the file named as released over one found
  by its cells; then the highest re-upload number (Canvas, browsers and
  Jupyter number the later copy); then the later file in the zip. The others
  are ``superseded``, with the winner named. A copy already in ``submitted/``
  with a later ``timestamp.txt`` is kept.
* A file that is not a readable notebook but belongs to a student is still
  collected (the grader scores it 0 and says why), so the student appears.
* Student ids are the platform's, Unicode-normalised (NFC) and otherwise as
  given (``müller`` stays); path separators, control characters and spaces
  become ``_`` and a leading dot becomes ``_`` (nbgrader ignores hidden
  folders), and the entry says so. Two accounts of one platform with the same
  id (two Canvas students named Jane Smith) get ``<id>-<platform id>``; the
  same id on two platforms is one person. The roster remembers each platform
  account's id for the next import (a plain zip's ids are the course's own).

Statuses of :class:`IntakeEntry`
--------------------------------
``collected``
    written to ``submitted/<student>/<assignment>/<notebook>``.
``superseded``
    another file of the same student and notebook was collected (named in the reason).
``receipt``
    a Blackboard receipt or an nbgrader ``timestamp.txt``: read, not graded.
``ignored``
    operating-system litter (``__MACOSX/``, ``.DS_Store``, ``Thumbs.db``,
    ``.ipynb_checkpoints/``, hidden files) and folders.
``unpacked``
    a zip inside the zip: its files have entries of their own.
``not-a-notebook``
    a student's file that is not a notebook (``.pdf``, ``.py``, Canvas text entries): not graded.
``other-assignment``
    a notebook of an assignment this import does not cover (``assignments=``): not written.
``not-an-assignment``
    a notebook that is no release's by name or cells, when the assignment cannot be told.
``unmatched``
    the student cannot be read from the file's name or folder.
``unreadable``
    the zip's copy of the file is damaged or encrypted (download the zip again).
``too-large``
    larger than :data:`MAX_FILE_BYTES`.

Entries with a status other than ``collected``, ``superseded``, ``receipt``,
``ignored`` and ``unpacked``, and collected entries with ``flags``, are what
the instructor should read (:attr:`IntakeEntry.needs_attention`).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime
from pathlib import Path, PurePosixPath

from nbgrader.utils import parse_utc

from grader import notebooks as nbs
from grader.course import Course
from grader.releases import known_sources, provided_cells, text_hash
from grader.roster import RosterRow, read_roster, write_roster

#: Share of a release's grade ids, or of its provided cells' texts, a notebook must contain to be recognised as it.
MIN_SHARE = 0.5
#: Larger files are not read (a notebook with many images is a few MB).
MAX_FILE_BYTES = 200 * 1024 * 1024
#: How deep zips uploaded inside the zip are opened.
MAX_NESTING = 2
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
#: The columns of ``roster.csv``; ``assignment`` is set for Moodle rows (participant ids are per assignment).
PLATFORM_TITLES = {"canvas": "Canvas", "blackboard": "Blackboard", "moodle": "Moodle", "plain": "plain",
                   "unknown": "unknown"}
#: Statuses that need no reading by the instructor (a collected entry with flags still does).
QUIET_STATUSES = ("collected", "superseded", "receipt", "ignored", "unpacked")
#: Statuses of a student's file that is not collected but still makes the student's grade (0, with the reason):
#: :func:`collect_archive` gives such a file an assignment where the zip tells one.
UNCOLLECTED_UPLOADS = ("not-a-notebook", "unreadable", "too-large")

# --------------------------------------------------------------------------- file names

BLACKBOARD = re.compile(r"^(?P<key>(?P<head>.+)_(?:attempt|poging)_(?P<time>\d{4}(?:-\d{2}){5}))"
                        r"(?:_(?P<file>.+)|(?P<receipt>\.txt))$", re.IGNORECASE)
CANVAS = re.compile(r"^(?P<login>.+?)_(?:(?P<late>LATE)_)?(?P<uid>\d+)_(?P<fid>\d+)_(?P<file>.+)$")
CANVAS_ANONYMOUS = re.compile(r"^(?:(?P<late>LATE)_)?anon_(?P<uid>[A-Za-z0-9]+)_(?P<fid>\d+)_(?P<file>.+)$")
CANVAS_TEXT = re.compile(r"^(?P<login>.+?)_(?:(?P<late>LATE)_)?(?P<uid>\d+)_(?P<kind>text|link)\.html$")
MOODLE_FOLDER = re.compile(r"^(?P<name>.+)_(?P<uid>\d+)_assignsubmission_(?P<plugin>[a-z]+)_?$")
MOODLE_FLAT = re.compile(r"^(?P<name>.+)_(?P<uid>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<file>.+)$")
RECEIPT_NAME = re.compile(r"^\s*Name:\s*(?P<name>.*?)\s*\((?P<user>[^()]+)\)\s*$", re.MULTILINE)
RECEIPT_ORIGINAL = re.compile(r"^\s*Original filename:\s*(?P<name>.+?)\s*$", re.MULTILINE)
RECEIPT_FILENAME = re.compile(r"^\s*Filename:\s*(?P<name>.+?)\s*$", re.MULTILINE)

#: What browsers, platforms and editors add to a copied or re-uploaded file's name: (pattern on the stem, what it is).
#: Group 1, when present and numeric, is the copy's number.
REUPLOAD_SUFFIXES = (
    (re.compile(r"\s*\((\d+)\)$"), "a browser's name for a repeated download"),
    (re.compile(r"-Copy(\d*)$", re.IGNORECASE), "Jupyter's name for a copy"),
    (re.compile(r"\s+-\s+Copy$", re.IGNORECASE), "Windows' name for a copy"),
    (re.compile(r"-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"), "Canvas's name for a re-upload"),
    (re.compile(r"-(\d+)$"), "Canvas's name for a re-upload"),
    (re.compile(r"_(\d+)$"), "a re-upload number"),
)
REUPLOAD_PREFIX = re.compile(r"^Copy of\s+", re.IGNORECASE)  # Google Drive and Colab

LITTER_FOLDERS = {"__MACOSX": "macOS archive metadata", ".ipynb_checkpoints": "Jupyter's autosave checkpoint",
                  "__pycache__": "Python's cache", ".virtual_documents": "JupyterLab's scratch copy",
                  ".git": "a git repository's data", ".Trash": "a trash folder", ".Trashes": "a trash folder",
                  ".vscode": "an editor's settings", ".idea": "an editor's settings"}
LITTER_FILES = {".DS_Store": "macOS folder metadata", "Thumbs.db": "Windows thumbnail cache",
                "desktop.ini": "Windows folder settings"}
UNSAFE_CHARACTERS = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]|\s')


@dataclass(frozen=True)
class IntakeEntry:
    """What became of one file of the zip.

    Attributes:
        member: The file's path in the zip (``outer.zip!/inner`` inside an uploaded zip).
        platform: ``canvas``, ``blackboard``, ``moodle``, ``plain`` or ``unknown`` (no pattern matched).
        student: The student id under ``submitted/`` (None when it cannot be read).
        assignment: The assignment the file was collected for (or would have been: superseded,
            other-assignment).
        notebook: The release notebook name it was stored as (or would have been).
        status: See the module docstring.
        reason: What happened and why, in a sentence or two for the instructor.
        timestamp: The platform's submission time (naive, the platform's local time), if it gives one.
        late: Canvas marked the submission LATE.
        renamed: The uploaded file's name differs from the release notebook's.
        name: The student's full name, when the platform gives it (Moodle, Blackboard receipts).
        platform_id: The platform's own id of the student (Canvas user id, Blackboard username, Moodle
            participant id; the id itself for plain zips).
        flags: Short kinds of what is unusual about a collected file: ``renamed``, ``by-content``,
            ``other-notebook``, ``damaged``, ``guessed-assignment``, ``late``, ``unsafe-id``,
            ``same-id``, ``several-files``, ``replaced``.
    """

    member: str
    platform: str
    student: str | None
    assignment: str | None
    notebook: str | None
    status: str
    reason: str
    timestamp: datetime | None = None
    late: bool = False
    renamed: bool = False
    name: str = ""
    platform_id: str = ""
    flags: tuple[str, ...] = ()

    @property
    def needs_attention(self) -> bool:
        """Whether the instructor should read this entry."""
        return self.status not in QUIET_STATUSES or (self.status == "collected" and bool(self.flags))


@dataclass(frozen=True)
class _Naming:
    """What a file's name and folders say (before the student id is made safe)."""

    platform: str
    student: str
    platform_id: str
    uploaded: str  # the name the student uploaded (path inside the student's folder)
    name: str = ""
    timestamp: datetime | None = None
    late: bool = False
    folder_assignment: str | None = None
    receipt_key: str = ""  # Blackboard: "<title>_<user>_attempt_<time>"
    kind: str = "file"  # "file", "receipt" (Blackboard .txt, nbgrader timestamp.txt), "text" (Canvas text entry)


@dataclass(frozen=True)
class _Release:
    """What identifies a release notebook: its grade ids and its provided cells' texts.

    ``provided`` holds, per provided (locked, non-answer) cell, the fingerprints of its text in every
    release of the assignment (:func:`grader.releases.known_sources`): a student who started from an
    earlier release is recognised too.
    """

    assignment: str
    name: str
    grade_ids: frozenset[str]
    provided: tuple[tuple[str, frozenset[str]], ...]

    def share(self, nb) -> tuple[float, str]:
        """The larger share of this release's grade ids / provided cells found in ``nb``, and which it was."""
        ids = {nbs.grade_id(c) for c in nb.cells} - {None}
        texts = {text_hash(nbs.source(c)) for c in nb.cells if nbs.source(c).strip()}
        by_id = len(ids & self.grade_ids) / len(self.grade_ids) if self.grade_ids else 0.0
        found = sum(1 for _, fingerprints in self.provided if fingerprints & texts)
        by_text = found / len(self.provided) if self.provided else 0.0
        return (by_id, "ids") if by_id >= by_text else (by_text, "text")


@dataclass
class _File:
    """One file of the zip on its way to an entry."""

    member: str
    naming: _Naming | None
    data: bytes | None = None
    order: int = 0
    status: str | None = None  # decided early (ignored, unmatched, ...)
    reason: str = ""
    student: str = ""
    id_note: str = ""
    id_flags: list[str] = field(default_factory=list)
    # notebooks
    nb: object | None = None
    damage: str = ""
    content: _Release | None = None
    content_how: str = ""
    assignment: str | None = None
    notebook: str | None = None
    how: str = ""  # "folder", "name", "content", "loose", "guess"
    copies: int = 0
    copy_kind: str = ""
    flags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- names


def safe_student_id(raw: str) -> tuple[str, str]:
    """A student id usable as a folder name, and a note when it had to change (empty otherwise).

    Unicode letters stay (``müller``), normalised to NFC (zips made on macOS store decomposed
    letters); path separators, characters Windows forbids, control characters and white space become
    ``_``; a leading dot becomes ``_`` (nbgrader ignores hidden folders).
    """
    text = unicodedata.normalize("NFC", raw).strip()
    safe = UNSAFE_CHARACTERS.sub("_", text)
    safe = re.sub(r"^\.", "_", safe)[:120]
    if safe in {"", "_", "__"} or set(safe) <= {"_", "."}:
        return "", f"the student id {raw!r} is not usable as a folder name"
    if safe != text:
        return safe, f"the student id {raw!r} was made safe as a folder name: {safe!r}"
    return safe, ""


def strip_reupload(stem: str) -> list[tuple[str, int, str]]:
    """The stem with copy and re-upload marks removed one at a time: ``[(stem, copy number, what), ...]``.

    The first item is the stem itself (number 0); ``"mf-Copy1 (1)"`` gives ``mf-Copy1 (1)``,
    ``mf-Copy1`` and ``mf``. A copy's number is the sum of its marks' numbers (a mark without one counts 1).
    """
    variants = [(stem, 0, "")]
    current, number, what = stem, 0, ""
    while True:
        for pattern, description in REUPLOAD_SUFFIXES:
            match = pattern.search(current)
            if match and match.start() > 0:
                digits = match.group(1) if match.groups() else None
                number += int(digits) if digits and digits.isdigit() else 1
                current, what = current[: match.start()], what or description
                break
        else:
            match = REUPLOAD_PREFIX.match(current)
            if match and match.end() < len(current):
                number += 1
                current, what = current[match.end():], what or "a copy (Google Drive, Colab)"
            else:
                return variants
        variants.append((current, number, what))


def _decoded_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its author wrote it: zips without the UTF-8 flag often hold UTF-8 anyway."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return unicodedata.normalize("NFC", name.replace("\\", "/"))


def _litter(parts: Sequence[str]) -> str:
    for part in parts[:-1]:
        if part in LITTER_FOLDERS:
            return LITTER_FOLDERS[part]
    base = parts[-1]
    if base in LITTER_FILES:
        return LITTER_FILES[base]
    if base.startswith("._"):
        return "macOS resource data"
    if base.startswith("."):
        return "a hidden file"
    return ""


def _blackboard_receipt(text: str) -> tuple[str, str, dict[str, str]]:
    """Full name, username and ``{file name in the zip: original file name}`` from a Blackboard receipt."""
    match = RECEIPT_NAME.search(text)
    name, user = (match["name"], match["user"].strip()) if match else ("", "")
    originals = RECEIPT_ORIGINAL.findall(text)
    in_zip = RECEIPT_FILENAME.findall(text)
    return name, user, dict(zip(in_zip, originals)) if len(in_zip) == len(originals) else {}


def _blackboard_user(head: str, receipts: Mapping[str, tuple[str, str, dict[str, str]]], key: str) -> tuple[str, str]:
    """Username and full name from ``<title>_<username>``: the receipt's username when it fits."""
    name, user, _ = receipts.get(key, ("", "", {}))
    if user and head.endswith("_" + user):
        return user, name
    return head.rsplit("_", 1)[-1], name


def _read_name(path: str, assignments: set[str], notebook_match, receipts) -> _Naming | None:
    """What the member's path says: platform, student, the uploaded name. None when nothing fits."""
    parts = path.split("/")
    base = parts[-1]
    for i, part in enumerate(parts[:-1]):
        match = MOODLE_FOLDER.match(part)
        if match:
            return _Naming("moodle", match["uid"], match["uid"], "/".join(parts[i + 1:]), name=match["name"],
                           kind="file" if match["plugin"] == "file" else "text")
    match = BLACKBOARD.match(base)
    if match:
        user, name = _blackboard_user(match["head"], receipts, match["key"])
        when = datetime.strptime(match["time"], "%Y-%m-%d-%H-%M-%S")
        uploaded = match["file"] or base
        uploaded = receipts.get(match["key"], ("", "", {}))[2].get(base, uploaded)
        return _Naming("blackboard", user, user, uploaded, name=name, timestamp=when, receipt_key=match["key"],
                       kind="receipt" if match["receipt"] else "file")
    match = MOODLE_FLAT.match(base)
    if match:
        return _Naming("moodle", match["uid"], match["uid"], match["file"], name=match["name"],
                       kind="file" if match["plugin"] == "file" else "text")
    match = CANVAS_ANONYMOUS.match(base)
    if match:
        anonymous = f"anon_{match['uid']}"
        return _Naming("canvas", anonymous, anonymous, match["file"], late=bool(match["late"]))
    match = CANVAS.match(base)
    if match:
        return _Naming("canvas", match["login"], match["uid"], match["file"], late=bool(match["late"]))
    match = CANVAS_TEXT.match(base)
    if match:
        return _Naming("canvas", match["login"], match["uid"], base, late=bool(match["late"]), kind="text")
    # Plain: "<student>_<notebook>.ipynb" where <notebook> names a release notebook.
    stem, suffix = PurePosixPath(base).stem, PurePosixPath(base).suffix
    if suffix.lower() == ".ipynb":
        for i in [i for i, c in enumerate(stem) if c == "_"]:
            if i and notebook_match(stem[i + 1:] + suffix)[0] in ("exact", "copy"):
                return _Naming("plain", stem[:i], stem[:i], stem[i + 1:] + suffix)
    if len(parts) >= 3 and parts[-2] in assignments:
        kind = "receipt" if base == "timestamp.txt" else "file"
        return _Naming("plain", parts[-3], parts[-3], base, folder_assignment=parts[-2], kind=kind)
    if len(parts) >= 2:
        return _Naming("plain", parts[-2], parts[-2], base)
    if suffix.lower() == ".ipynb" and "_" in stem.strip("_"):
        student, _, rest = stem.strip("_").partition("_")
        return _Naming("plain", student, student, rest + suffix)
    return None


# --------------------------------------------------------------------------- releases


def release_assignments(course: Course) -> list[str]:
    """The assignments released in ``exercises/`` (folders that hold a notebook)."""
    if not course.exercises.is_dir():
        return []
    return sorted(p.name for p in course.exercises.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def _release(course: Course, assignment: str, name: str, path: Path) -> _Release:
    nb = nbs.read_notebook(path)[0]
    ids = frozenset(filter(None, (nbs.grade_id(c) for c in nb.cells)))
    blank = {nbs.grade_id(c) for c in nb.cells if not nbs.source(c).strip()}
    earlier = known_sources(course, assignment, name)
    provided = tuple((gid, frozenset({fingerprint} | earlier.get(gid, set())))
                     for gid, fingerprint in provided_cells(nb).items() if gid not in blank)
    return _Release(assignment, name, ids, provided)


def _releases(course: Course, assignments: Iterable[str]) -> list[_Release]:
    return [_release(course, assignment, name, path) for assignment in assignments
            for name, path in course.release_notebooks(assignment).items()]


def _name_matcher(releases: Sequence[_Release]):
    """A function: uploaded file name -> (level, release, copy number, what the copy marks are).

    Levels: ``exact`` (the release's name), ``copy`` (after removing copy marks, or another case),
    ``loose`` (a word of the name is a notebook's name, e.g. ``mf_final``), None.
    """
    by_stem: dict[str, list[_Release]] = defaultdict(list)
    for release in releases:
        by_stem[PurePosixPath(release.name).stem.casefold()].append(release)

    def match(uploaded: str):
        base = unicodedata.normalize("NFC", PurePosixPath(uploaded).name)
        path = PurePosixPath(base)
        if path.suffix.lower() != ".ipynb":
            return None, None, 0, ""
        for release in releases:
            if release.name == base:
                return "exact", release, 0, ""
        for stem, number, what in strip_reupload(path.stem):
            found = by_stem.get(stem.casefold(), [])
            if len(found) == 1:
                return "copy", found[0], number, what or "another case"
            if found:
                return None, None, 0, ""  # two assignments have a notebook of this name
        words = {w.casefold() for w in re.split(r"[\s_\-.()]+", path.stem) if w}
        found = [r for stem, rs in by_stem.items() if stem in words for r in rs]
        if len(found) == 1:
            return "loose", found[0], 0, ""
        return None, None, 0, ""

    return match


def _recognise(nb, releases: Sequence[_Release]) -> tuple[_Release | None, str]:
    """The release ``nb`` is, by its cells (the best share, at least :data:`MIN_SHARE` and not tied)."""
    scored = sorted(((*r.share(nb), i) for i, r in enumerate(releases)), reverse=True)
    if not scored or scored[0][0] < MIN_SHARE or len(scored) > 1 and scored[1][0] == scored[0][0]:
        return None, ""
    return releases[scored[0][2]], scored[0][1]


# --------------------------------------------------------------------------- reading the zip


def _members(archive: zipfile.ZipFile, prefix: str = "") -> list[tuple[str, zipfile.ZipInfo, zipfile.ZipFile]]:
    """``(path shown to the instructor, member, the zip it is in)`` of every member."""
    return [(prefix + _decoded_name(info), info, archive) for info in archive.infolist()]


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[bytes | None, str]:
    if info.file_size > MAX_FILE_BYTES:
        return None, "too-large"
    try:
        with archive.open(info) as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError, ValueError) as error:
        return None, f"{type(error).__name__}: {error}"
    if len(data) > MAX_FILE_BYTES:
        return None, "too-large"
    return data, ""


# --------------------------------------------------------------------------- students


def _assign_ids(files: Sequence[_File], roster: Sequence[RosterRow]) -> dict[tuple[str, str], tuple[str, str]]:
    """Give every file with a naming its student id; returns ``{(platform, platform id): (student, name)}``.

    An account (platform, platform id) keeps the id the roster gave it. A new account gets its
    platform's id made safe (:func:`safe_student_id`), unless another account *of the same platform*
    has it (in the roster or in this zip: two Canvas students named Jane Smith): then each such new
    account gets ``<id>-<platform id>``, except the one whose platform id is the id itself (a Blackboard
    username, a plain zip's own spelling). The same id on two platforms is taken to be one person
    (institutions share usernames); the roster lists both accounts.
    """
    known = {(r.platform, r.platform_id): r.student for r in roster if r.platform_id}
    owners = {(r.student, r.platform): r.platform_id for r in roster if r.platform_id}
    identities: dict[tuple[str, str], tuple[str, str, str]] = {}  # account -> (proposed id, note, full name)
    for f in files:
        if f.naming is None:
            continue
        account = (f.naming.platform, f.naming.platform_id)
        if account not in identities or f.naming.name and not identities[account][2]:
            identities[account] = (*safe_student_id(f.naming.student), f.naming.name)
    chosen: dict[tuple[str, str], tuple[str, list[str], list[str]]] = {}  # account -> (id, notes, flags)
    claims: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for account, (proposed, note, _) in identities.items():
        if account in known:
            chosen[account] = (known[account], [], [])
        elif not proposed:
            chosen[account] = ("", [note], [])
        else:
            claims[(proposed, account[0])].append(account)
    for (proposed, platform), accounts in sorted(claims.items()):
        owner = owners.get((proposed, platform))
        keeper = (None if owner is not None else accounts[0] if len(accounts) == 1 else
                  next((a for a in accounts if a[1] == proposed), None))
        for account in accounts:
            note = identities[account][1]
            notes, flags = ([note], ["unsafe-id"]) if note else ([], [])
            if account == keeper:
                chosen[account] = (proposed, notes, flags)
                continue
            student, _ = safe_student_id(f"{proposed}-{account[1]}")
            others = sorted({a[1] for a in accounts if a != account} | ({owner} if owner else set()))
            notes.append(f"another {PLATFORM_TITLES[platform]} account ({', '.join(others)}) has the id "
                         f"{proposed!r} too: stored as {student!r}")
            chosen[account] = (student, notes, flags + ["same-id"])
    for f in files:
        if f.naming is None:
            continue
        f.student, notes, f.id_flags = chosen[(f.naming.platform, f.naming.platform_id)]
        f.id_note = _sentences(notes)
        if not f.student and f.status is None:
            f.status, f.reason = "unmatched", f"{notes[0]}: the file cannot be given to a student"
    return {account: (student, identities[account][2]) for account, (student, _, _) in chosen.items() if student}


def _updated_roster(roster: Sequence[RosterRow], accounts: Mapping[tuple[str, str], tuple[str, str]],
                    files: Sequence[_File]) -> list[RosterRow]:
    """The roster with this zip's platform accounts added or updated (plain zips' ids need no row)."""
    assignments: dict[tuple[str, str], set[str]] = defaultdict(set)
    for f in files:
        if f.naming is not None and f.assignment:
            assignments[(f.naming.platform, f.naming.platform_id)].add(f.assignment)

    def key(row: RosterRow) -> tuple[str, str]:
        return row.platform, row.platform_id or f"student {row.student}"

    rows = {key(r): r for r in roster}
    for (platform, platform_id), (student, name) in accounts.items():
        if platform == "plain":
            continue
        anonymous = platform == "canvas" and platform_id.startswith("anon_")
        found = assignments.get((platform, platform_id), set())
        row = RosterRow(student, platform, name, "" if anonymous else platform_id,
                        found.pop() if platform == "moodle" and len(found) == 1 else "")
        old = rows.get(key(row))
        if old is not None:
            row = replace(row, name=row.name or old.name, assignment=row.assignment or old.assignment)
        rows[key(row)] = row
    return list(rows.values())


# --------------------------------------------------------------------------- the import


def collect_archive(course: Course, archive: str | Path, assignments: Sequence[str] | None = None, *,
                    roster: str | Path | None = None) -> list[IntakeEntry]:
    """Import a learning platform's zip into ``submitted/``; one entry per file of the zip.

    Args:
        course: The course folder (its ``exercises/`` are the releases to recognise, its ``submitted/``
            is written).
        archive: The zip the platform gave (see the module docstring for the file names recognised).
        assignments: The assignments this zip is for (default: every released assignment). Notebooks of
            others are listed as ``other-assignment`` and not written.
        roster: Where to read and update ``roster.csv`` (``student,platform,name,platform_id,assignment``,
            one row per platform account, see :class:`RosterRow`), which maps the ids under ``submitted/``
            back to the platforms' accounts and keeps ids stable between imports. Not written when None.

    Returns:
        One :class:`IntakeEntry` per file (and folder) of the zip, and per file of zips inside it, in
        the zip's order.

    Raises:
        ValueError: The archive is not a readable zip, there are no releases in ``exercises/``, or an
            assignment in ``assignments`` is not released.
    """
    archive = Path(archive)
    released = release_assignments(course)
    if not released:
        raise ValueError(f"{course.exercises} holds no released assignment: run `make release` first")
    scope = list(assignments) if assignments else released
    unknown = [a for a in scope if a not in released]
    if unknown:
        raise ValueError(f"assignment {unknown[0]!r} is not released in {course.exercises} "
                         f"(released: {', '.join(released)})")
    releases = _releases(course, released)
    match_name = _name_matcher(releases)
    try:
        handle = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as error:
        raise ValueError(f"{archive} is not a readable zip file ({error})") from None
    with handle:
        files = _gather(handle, set(released), match_name)
    known = read_roster(roster) if roster else []
    accounts = _assign_ids(files, known)
    for f in files:
        if f.status is None and f.naming is not None:
            _classify(f, releases, scope, match_name)
    default, default_why = _default_assignment(files, scope)
    for f in files:
        if f.status is None and f.naming is not None and f.assignment is None:
            _fall_back(f, releases, default, default_why, scope)
    for f in files:
        if f.status in UNCOLLECTED_UPLOADS and f.student and f.naming is not None and f.assignment is None:
            _place_uncollected(f, releases, scope, match_name, default, default_why)
    _choose(files, course)
    if roster:
        write_roster(_updated_roster(known, accounts, files), roster)
    return [_entry(f) for f in sorted(files, key=lambda f: f.order)]


def _gather(handle: zipfile.ZipFile, assignments: set[str], match_name) -> list[_File]:
    """Every member (and member of uploaded zips) as a :class:`_File` with its naming and bytes."""
    files: list[_File] = []
    receipts: dict[str, tuple[str, str, dict[str, str]]] = {}
    pending: list[tuple[str, zipfile.ZipInfo, zipfile.ZipFile, _Naming | None, int]] = [
        (name, info, handle, None, 0) for name, info, _ in _members(handle)]
    # Blackboard receipts first: they resolve usernames and original file names of their attempt.
    for name, info, archive, _, _ in pending:
        match = BLACKBOARD.match(name.rsplit("/", 1)[-1])
        if match and match["receipt"] and not info.is_dir():
            data, _error = _read(archive, info)
            if data is not None:
                receipts[match["key"]] = _blackboard_receipt(data.decode("utf-8", "replace"))
    while pending:
        name, info, archive, inherited, depth = pending.pop(0)
        f = _File(name, None, order=len(files))
        files.append(f)
        if info.is_dir():
            f.status, f.reason = "ignored", "a folder (its files have entries of their own)"
            continue
        inner = name.rsplit("!/", 1)[-1]
        parts = inner.split("/")
        litter = _litter(parts)
        if litter:
            f.status, f.reason = "ignored", f"{litter}, not a submission"
            continue
        if inherited is not None:
            f.naming = replace(inherited, uploaded=inner, kind="file", folder_assignment=None)
        else:
            f.naming = _read_name(inner, assignments, match_name, receipts)
        data, error = _read(archive, info)
        if error == "too-large":
            f.status = "too-large"
            f.reason = f"larger than {MAX_FILE_BYTES // 2 ** 20} MB ({info.file_size} bytes): not read"
            continue
        if data is None:
            f.status = "unreadable"
            f.reason = f"the zip's copy of this file is damaged ({error}): download the zip again"
            continue
        f.data = data
        if f.naming is None:
            f.status = "unmatched"
            f.reason = ("no student in its name or folder: it fits none of the Canvas, Blackboard, Moodle or "
                        "plain (<student>_<notebook>.ipynb, <student>/<notebook>.ipynb) file names")
            if PurePosixPath(inner).suffix.lower() == ".zip" and depth < MAX_NESTING:
                _unpack(f, data, pending, None, depth)
            continue
        n = f.naming
        if n.kind == "receipt":
            f.status = "receipt"
            if n.platform == "blackboard":
                f.reason = f"Blackboard's receipt of {n.student}'s attempt of {n.timestamp:%Y-%m-%d %H:%M:%S}"
            else:
                f.reason = "nbgrader's timestamp of the submission in this folder (used as its time)"
            continue
        suffix = PurePosixPath(n.uploaded).suffix.lower()
        if suffix == ".zip" and depth < MAX_NESTING:
            _unpack(f, data, pending, n, depth)
            continue
        if n.kind == "text" or suffix != ".ipynb":
            what = "a text or link entry" if n.kind == "text" else f"a {suffix or 'file without extension'} file"
            f.status = "not-a-notebook"
            f.reason = f"{what}, not a notebook: not graded"
    _apply_timestamps(files)
    return files


def _unpack(f: _File, data: bytes, pending: list, naming: _Naming | None, depth: int) -> None:
    try:
        inner = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        f.status = "not-a-notebook"
        f.reason = f"a .zip file that cannot be opened ({error}): not graded"
        return
    members = list(_members(inner, prefix=f.member + "!/"))
    f.status = "unpacked"
    f.reason = f"a zip inside the zip: its {len(members)} files are listed as {f.member}!/..."
    # Inner members go right after the zip, in their order.
    pending[0:0] = [(name, info, arch, naming, depth + 1) for name, info, arch in members]


def _apply_timestamps(files: list[_File]) -> None:
    """nbgrader ``timestamp.txt`` files of a zipped ``submitted/`` give their folder's notebooks a time."""
    times: dict[tuple[str, str, str], datetime] = {}
    for f in files:
        n = f.naming
        if f.status == "receipt" and n is not None and n.platform == "plain" and f.data is not None:
            try:
                times[(n.student, n.folder_assignment or "", f.member.rsplit("/", 1)[0])] = \
                    parse_utc(f.data.decode("utf-8").strip())
            except (ValueError, OverflowError, UnicodeDecodeError) as error:
                f.reason = f"nbgrader's timestamp of this folder cannot be read ({error}): not used"
    for f in files:
        n = f.naming
        if f.status is None and n is not None and n.platform == "plain" and n.folder_assignment:
            when = times.get((n.student, n.folder_assignment, f.member.rsplit("/", 1)[0]))
            if when is not None:
                f.naming = replace(n, timestamp=when)


def _classify(f: _File, releases: Sequence[_Release], scope: Sequence[str], match_name) -> None:
    """Read the notebook and decide its assignment and notebook (or its status)."""
    n = f.naming
    try:
        f.nb = nbs.parse_notebook(f.data, PurePosixPath(n.uploaded).name)[0]
    except nbs.NotANotebook as error:
        f.damage = str(error)
    if f.nb is not None:
        f.content, f.content_how = _recognise(f.nb, releases)
    level, by_name, f.copies, f.copy_kind = match_name(n.uploaded)
    claims: list[tuple[str, _Release]] = []
    if n.folder_assignment:
        in_folder = [r for r in releases if r.assignment == n.folder_assignment]
        pick = (by_name if by_name in in_folder and level in ("exact", "copy") else
                f.content if f.content in in_folder else in_folder[0] if len(in_folder) == 1 else None)
        if pick is not None:
            claims.append(("folder", pick))
    if by_name is not None and level in ("exact", "copy"):
        claims.append(("name", by_name))
    if f.content is not None:
        claims.append(("content", f.content))
    if by_name is not None and level == "loose":
        claims.append(("loose", by_name))
    chosen = next(((how, r) for how, r in claims if r.assignment in scope), None)
    if chosen is None and claims:
        how, release = claims[0]
        f.status, f.assignment, f.notebook = "other-assignment", release.assignment, release.name
        f.reason = (f"{_said_by(how, n.uploaded, f.content_how)} it is {release.assignment}'s notebook "
                    f"{release.name}, and this import is for {', '.join(scope)}: not collected")
        return
    if chosen is None:
        return  # decided later (_fall_back), with the zip's other notebooks known
    f.how, release = chosen
    f.assignment, f.notebook = release.assignment, release.name
    if f.how == "content":
        f.flags.append("by-content")
        f.notes.append(f"its name says nothing of the assignment, but {_said_by('content', n.uploaded, f.content_how)} "
                       f"it is {release.name} of {release.assignment}")
    elif f.how == "loose":
        f.notes.append(f"recognised as {release.name} by a word of its name {PurePosixPath(n.uploaded).name!r}")
    if f.content is not None and f.content != release:
        f.flags.append("other-notebook")
        f.notes.append(f"its cells are those of {f.content.name} ({f.content.assignment}), not of {release.name}: "
                       "the student may have uploaded the wrong notebook")
    elif f.nb is not None and f.content is None and f.how != "content":
        f.notes.append(f"its cells match no release notebook well (fewer than {MIN_SHARE:.0%} of {release.name}'s "
                       "grade ids or provided cells)")
        f.flags.append("other-notebook")


def _said_by(how: str, uploaded: str, content_how: str) -> str:
    if how == "content":
        return ("by its cells' nbgrader ids" if content_how == "ids" else
                "by the text of its provided cells (its nbgrader metadata is missing)")
    if how == "folder":
        return "by its folder"
    return f"by its name {PurePosixPath(uploaded).name!r}"


def _default_assignment(files: Sequence[_File], scope: Sequence[str]) -> tuple[str | None, str]:
    """The assignment of notebooks that say nothing: the import's only one, or the zip's only one."""
    if len(scope) == 1:
        return scope[0], f"the only assignment of this import ({scope[0]})"
    found = {f.assignment for f in files if f.status is None and f.assignment}
    if len(found) == 1:
        only = found.pop()
        return only, f"the assignment of every other notebook in this zip ({only})"
    return None, ""


def _fall_back(f: _File, releases: Sequence[_Release], default: str | None, why: str,
               scope: Sequence[str]) -> None:
    """A file neither its name nor its cells place: the default assignment, or not an assignment."""
    what = (f"not a readable notebook ({f.damage})" if f.damage else
            "a notebook whose name and cells match no release notebook")
    names = [r.name for r in releases if r.assignment == default]
    if default is None or len(names) != 1:
        f.status = "not-an-assignment"
        f.reason = (f"{what}, and the zip holds notebooks of several assignments ({', '.join(scope)}): not "
                    "collected (import it with --assignment to grade it)" if default is None else
                    f"{what}, and {default} has several notebooks ({', '.join(names)}): not collected")
        return
    f.assignment, f.notebook, f.how = default, names[0], "guess"
    f.flags.append("guessed-assignment")
    f.notes.append(f"{what}: collected as {default}, {why}")


def _place_uncollected(f: _File, releases: Sequence[_Release], scope: Sequence[str], match_name,
                       default: str | None, why: str) -> None:
    """The assignment a student's uncollected file (not a notebook, damaged in the zip, too large) was handed in
    for, so that the student gets a grade (0, with the reason) there: its folder, its name, or the zip's only
    assignment. Left None when the zip does not tell (the grader then counts it for every assignment graded)."""
    n = f.naming
    level, by_name, _copies, _kind = match_name(n.uploaded)
    if n.folder_assignment in scope:
        f.assignment, how = n.folder_assignment, "by its folder"
    elif by_name is not None and level in ("exact", "copy") and by_name.assignment in scope:
        f.assignment, how = by_name.assignment, f"by its name {PurePosixPath(n.uploaded).name!r}"
    elif default is not None:
        f.assignment, how = default, why
    else:
        return
    f.reason = _sentences([f.reason, f"counted for {f.assignment}, {how}: the grader scores the student 0 there "
                                     "with this reason, so that the student is not lost"])


def _rank(f: _File) -> tuple:
    """Sort key of one candidate among a student's files for one notebook (the largest wins)."""
    quality = 2 if f.nb is not None and f.content is not None and f.content.name == f.notebook and \
        f.content.assignment == f.assignment else 1 if f.nb is not None else 0
    named = 2 if f.how in ("name", "folder") else 1 if f.how in ("content", "loose") else 0
    when = f.naming.timestamp or datetime.min
    return when, quality, named, f.copies, f.order


def _choose(files: list[_File], course: Course) -> None:
    """Group candidates by student and notebook, write each group's winner, mark the others superseded."""
    groups: dict[tuple[str, str, str], list[_File]] = defaultdict(list)
    for f in files:
        if f.status is None and f.assignment and f.notebook:
            groups[(f.student, f.assignment, f.notebook)].append(f)
    for (student, assignment, notebook), group in groups.items():
        ranked = sorted(group, key=_rank, reverse=True)
        winner, others = ranked[0], ranked[1:]
        target = course.submitted / student / assignment / notebook
        for other in others:
            other.status = "superseded"
            other.reason = (f"superseded by {winner.member}, collected as {student}'s {notebook}: "
                            f"{_why_over(winner, other)}")
        if others:
            by_time = winner.naming.timestamp is not None and all(
                o.naming.timestamp is not None and o.naming.timestamp < winner.naming.timestamp for o in others)
            if not by_time and any(o.data != winner.data for o in others):
                winner.flags.append("several-files")  # chosen by the rules, not by the platform's times
            winner.notes.append(_why_winner(winner, others))
        _write(winner, target)


def _why_over(winner: _File, other: _File) -> str:
    """Why ``winner`` ranks above ``other`` (the first component of :func:`_rank` that differs)."""
    if other.data == winner.data:
        return "an identical copy"
    reasons = ("it is a later attempt", "it is a readable notebook of this assignment",
               "it has the released name", "it has a higher re-upload number (the later copy)",
               "it comes later in the zip")
    for reason, a, b in zip(reasons, _rank(winner), _rank(other)):
        if a != b:
            return reason
    return reasons[-1]


def _why_winner(winner: _File, others: Sequence[_File]) -> str:
    names = ", ".join(o.member for o in others)
    if winner.naming.timestamp and all(o.naming.timestamp and o.naming.timestamp < winner.naming.timestamp
                                       for o in others):
        notes = [f"the latest of {len(others) + 1} attempts (of {winner.naming.timestamp:%Y-%m-%d %H:%M:%S}), "
                 f"the others are not graded: {names}"]
        if winner.nb is None and any(o.nb is not None for o in others):
            notes.append("an earlier attempt is a readable notebook, the latest is not")
        return _sentences(notes)
    if all(o.data == winner.data for o in others):
        return f"identical copies not graded: {names}"
    return _sentences([f"chosen over {o.member}: {_why_over(winner, o)}" for o in others])


def _write(f: _File, target: Path) -> None:
    """Write the winner (and its timestamp.txt), unless ``submitted/`` holds a later copy already."""
    stamp_path = target.parent / "timestamp.txt"
    existing_time = None
    if target.is_file() and stamp_path.is_file():
        try:
            existing_time = parse_utc(stamp_path.read_text(encoding="utf-8").strip())
        except (ValueError, OverflowError, UnicodeDecodeError):
            existing_time = None
    when = f.naming.timestamp
    if existing_time is not None and when is not None and existing_time > when and target.read_bytes() != f.data:
        f.status = "superseded"
        f.reason = (f"a later submission (of {existing_time:%Y-%m-%d %H:%M:%S}, from an earlier import) is already "
                    f"in submitted/{f.student}/{f.assignment}/{f.notebook}: kept")
        return
    if target.is_file() and target.read_bytes() != f.data:
        f.flags.append("replaced")
        f.notes.append("replaced a different copy already in submitted/ (from an earlier import)")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(f.data)
    if when is not None:
        stamp_path.write_text(when.strftime(TIMESTAMP_FORMAT), encoding="utf-8")
    elif stamp_path.is_file():
        stamp_path.unlink()
        f.notes.append("an older timestamp.txt was removed (this platform gives no time)")
    f.status = "collected"


def _sentences(parts: Iterable[str]) -> str:
    """Parts of a reason as sentences (capitalised, joined by ". "): no "; " inside, so that a reason can
    sit in one field of a report that joins several with "; " (:data:`grader.report.FLAG_SEPARATOR`)."""
    sentences = [p.strip().rstrip(".").replace("; ", ", ") for p in parts if p and p.strip()]
    return ". ".join(p[0].upper() + p[1:] for p in sentences)


def _entry(f: _File) -> IntakeEntry:
    n = f.naming
    platform = n.platform if n is not None else "unknown"
    if f.status == "unmatched" or n is None:
        return IntakeEntry(f.member, platform, None, None, None, f.status or "unmatched", _sentences([f.reason]))
    student = f.student or None
    renamed = bool(f.notebook) and PurePosixPath(n.uploaded).name != f.notebook and f.status in (
        "collected", "superseded")
    flags = list(f.flags)
    notes = list(f.notes)
    if f.status == "collected":
        where = f"collected as submitted/{f.student}/{f.assignment}/{f.notebook}"
        if renamed and f.how in ("name", "folder"):
            flags.insert(0, "renamed")
            what = f" ({f.copy_kind})" if f.copy_kind else ""
            notes.insert(0, f"uploaded as {PurePosixPath(n.uploaded).name!r}{what}")
        elif renamed:
            flags.insert(0, "renamed")
            notes.insert(0, f"uploaded as {PurePosixPath(n.uploaded).name!r}")
        if f.damage:
            flags.append("damaged")
            notes.append(f"not a readable notebook ({f.damage}): collected so that the grader scores it 0 with "
                         "this reason and the student is not lost")
        if n.late:
            flags.append("late")
            notes.append("Canvas marked it LATE (no time in the file name: check the time in Canvas)")
        reason = _sentences([where] + notes)
    else:
        reason = f.reason
    if f.id_note:
        flags.extend(f.id_flags)
        reason = _sentences([reason, f.id_note])
    return IntakeEntry(
        member=f.member, platform=platform, student=student, assignment=f.assignment, notebook=f.notebook,
        status=f.status or "unmatched", reason=_sentences([reason]),
        timestamp=n.timestamp, late=n.late, renamed=renamed, name=n.name, platform_id=n.platform_id,
        flags=tuple(dict.fromkeys(flags)) if f.status == "collected" or f.id_note else (),
    )


# --------------------------------------------------------------------------- a folder filled by hand


def find_notebook(folder: str | Path, release_name: str, release_notebooks: Mapping[str, str | Path]
                  ) -> tuple[Path | None, str]:
    """The file to grade as ``release_name`` in ``submitted/<student>/<assignment>/``, and a note.

    For folders filled by hand (an instructor copied a student's file in). The release's name when it is
    there (note empty); otherwise the one other notebook that is this notebook by its name without copy
    marks (``mf (1).ipynb``, ``mf-Copy1.ipynb``...) or by its cells (their grade ids, or the text of the
    provided cells when the metadata is missing), with a note such as ``"graded mf (1).ipynb as
    mf.ipynb"``. Several such candidates, or none: None, with a note that lists the files.

    Args:
        folder: The student's assignment folder.
        release_name: The release notebook's file name, e.g. ``mf.ipynb``.
        release_notebooks: The assignment's release notebooks, name -> path (``Course.release_notebooks``).
    """
    folder = Path(folder)
    if (folder / release_name).is_file():
        return folder / release_name, ""
    notebooks = sorted(p for p in folder.glob("*.ipynb") if p.is_file() and not p.name.startswith("."))
    others = [p for p in notebooks if p.name not in release_notebooks]
    if not others:
        return None, f"no {release_name} in {folder}" + (" (nor any other notebook)" if not notebooks else "")
    # A release lives in <course>/exercises/<assignment>/: its course's release history is read too.
    releases = [_release(Course(Path(path).resolve().parent.parent.parent), Path(path).parent.name, name, Path(path))
                for name, path in release_notebooks.items()]
    wanted = next((r for r in releases if r.name == release_name), None)
    if wanted is None:
        raise ValueError(f"{release_name} is not one of the release notebooks ({', '.join(release_notebooks)})")
    match_name = _name_matcher(releases)
    candidates: list[tuple[Path, str]] = []
    for path in others:
        level, by_name, _, what = match_name(path.name)
        if by_name == wanted and level in ("exact", "copy"):
            candidates.append((path, f"its name, {what}" if what else "its name"))
            continue
        try:
            nb = nbs.read_notebook(path)[0]
        except nbs.NotANotebook:
            continue
        found, how = _recognise(nb, releases)
        if found == wanted:
            candidates.append((path, "its grade ids" if how == "ids" else "the text of its provided cells"))
    listed = ", ".join(p.name for p in others)
    if len(candidates) == 1:
        path, how = candidates[0]
        rest = [p.name for p in others if p != path]
        extra = f" (also in the folder, not graded: {', '.join(rest)})" if rest else ""
        return path, f"graded {path.name} as {release_name} (recognised by {how}){extra}"
    if candidates:
        return None, (f"no {release_name} in {folder}, and several notebooks could be it: "
                      f"{', '.join(p.name for p, _ in candidates)}: rename the one to grade")
    return None, (f"no {release_name} in {folder}; the notebooks there ({listed}) are not {release_name} by name "
                  "or cells")


# --------------------------------------------------------------------------- reports


def write_intake_report(entries: Sequence[IntakeEntry], path: str | Path) -> None:
    """Write the entries as CSV (one line per file of the zip; flags joined by ``"; "``)."""
    names = [f.name for f in fields(IntakeEntry)]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=names)
        writer.writeheader()
        for entry in entries:
            row = asdict(entry)
            row["timestamp"] = entry.timestamp.strftime(TIMESTAMP_FORMAT) if entry.timestamp else ""
            row["flags"] = "; ".join(entry.flags)
            writer.writerow(row)


def format_intake(entries: Sequence[IntakeEntry]) -> str:
    """A summary for the terminal: counts by status and platform, then every entry that needs attention."""
    if not entries:
        return "The zip is empty.\n"
    counts: dict[str, int] = defaultdict(int)
    for entry in entries:
        counts[entry.status] += 1
    students = {e.student for e in entries if e.status == "collected"}
    platforms = sorted({e.platform for e in entries if e.platform != "unknown"})
    others = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()) if status != "collected")
    lines = [f"Zip import: {counts['collected']} notebook(s) of {len(students)} student(s) collected "
             f"({', '.join(PLATFORM_TITLES[p] for p in platforms) or 'no platform recognised'})"
             + (f"; {others}" if others else "")]
    attention = [e for e in entries if e.needs_attention]
    if attention:
        lines.append("To check:")
        for e in attention:
            who = f"{e.student}: " if e.student else ""
            lines.append(f"  [{e.status}] {e.member}: {who}{e.reason}")
    return "\n".join(lines) + "\n"
