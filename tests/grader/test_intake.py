"""grader.intake: learning platforms' zips into submitted/, nobody lost.

Every fixture is generated here from the committed release (exercises/<assignment>/<assignment>.ipynb,
read at test time) and zipped with the file names each platform writes; the two real case zips of
2026-11-30 are imported as they are.
"""

from __future__ import annotations

import csv
import json
import shutil
import unicodedata
import zipfile
from datetime import datetime
from pathlib import Path

import nbformat
import pytest

from grader import notebooks as nbs
from grader.course import REPO_ROOT, Course
from grader.roster import read_roster
from grader.intake import (IntakeEntry, collect_archive, find_notebook, format_intake,
                           safe_student_id, strip_reupload, write_intake_report)
from grader.releases import provided_cells

CASES = Path("/work/shared/cases/submissions-2026-11-30")
ASSIGNMENTS = ("mf", "deep")


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def course(tmp_path: Path) -> Course:
    """A course folder with the committed releases (and their history) and nothing submitted."""
    root = tmp_path / "course"
    for assignment in ASSIGNMENTS:
        shutil.copytree(REPO_ROOT / "exercises" / assignment, root / "exercises" / assignment)
    history = REPO_ROOT / "exercises" / "release-history.json"
    if history.is_file():
        shutil.copy(history, root / "exercises" / history.name)
    return Course(root)


def release(assignment: str):
    return nbs.read_notebook(REPO_ROOT / "exercises" / assignment / f"{assignment}.ipynb")[0]


def answered(assignment: str, marker: str) -> bytes:
    """The release with every answer cell filled (``marker`` makes each student's file different)."""
    nb = release(assignment)
    for cell in nb.cells:
        if nbs.is_solution(cell):
            cell.source = f"# {marker}\nanswer = {len(marker)}\n"
    return nbformat.writes(nb).encode("utf-8")


def stripped(raw: bytes) -> bytes:
    """What VS Code made of it: no cell metadata, no cell ids, nbformat 4.4."""
    nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
    for cell in nb.cells:
        cell.metadata = {}
        cell.pop("id", None)
    nb.nbformat_minor = 4
    return nbformat.writes(nb, version=4).encode("utf-8")


def make_zip(path: Path, members: dict[str, bytes | None]) -> Path:
    """A zip of ``members`` (None: a folder entry)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as handle:
        for name, data in members.items():
            if data is None:
                handle.writestr(zipfile.ZipInfo(name.rstrip("/") + "/"), b"")
            else:
                handle.writestr(name, data)
    return path


def by_member(entries: list[IntakeEntry]) -> dict[str, IntakeEntry]:
    return {e.member: e for e in entries}


def stored(course: Course, student: str, assignment: str, notebook: str | None = None) -> bytes:
    return (course.submitted / student / assignment / (notebook or f"{assignment}.ipynb")).read_bytes()


def assert_complete(entries: list[IntakeEntry], archive: Path, course: Course) -> None:
    """Every member of the zip has exactly one entry; every collected entry's file is in submitted/."""
    with zipfile.ZipFile(archive) as handle:
        names = [unicodedata.normalize("NFC", i.filename) for i in handle.infolist()]
    members = [e.member for e in entries if "!/" not in e.member]
    assert sorted(members) == sorted(names)
    for entry in entries:
        assert entry.status in {"collected", "superseded", "receipt", "ignored", "unpacked", "not-a-notebook",
                                "other-assignment", "not-an-assignment", "unmatched", "unreadable", "too-large"}
        assert entry.reason and "; " not in entry.reason, entry  # a reason fits in one field of "; "-joined flags
        if entry.status == "collected":
            assert (course.submitted / entry.student / entry.assignment / entry.notebook).is_file()
        if entry.status in ("collected", "superseded", "not-a-notebook"):
            assert entry.student, entry
    collected = [(e.student, e.assignment, e.notebook) for e in entries if e.status == "collected"]
    assert len(collected) == len(set(collected)), "one file per student and notebook"


# --------------------------------------------------------------------------- names


def test_copy_marks_are_removed_one_at_a_time():
    assert [s for s, _, _ in strip_reupload("mf-Copy1 (1)")] == ["mf-Copy1 (1)", "mf-Copy1", "mf"]
    assert strip_reupload("mf (2)")[-1][:2] == ("mf", 2)
    assert strip_reupload("mf-3")[-1][:2] == ("mf", 3)
    assert strip_reupload("mf_1")[-1][:2] == ("mf", 1)
    assert [s for s, _, _ in strip_reupload("mf - Copy (2)")] == ["mf - Copy (2)", "mf - Copy", "mf"]
    assert strip_reupload("Copy of mf")[-1][0] == "mf"
    assert strip_reupload("mf-0f8fad5b-d9cb-469f-a165-70867728950e")[-1][0] == "mf"
    assert strip_reupload("mf") == [("mf", 0, "")]
    assert strip_reupload("(1)") == [("(1)", 0, "")]  # nothing left of the name: not a mark


def test_safe_student_ids():
    assert safe_student_id("müller") == ("müller", "")
    assert safe_student_id(unicodedata.normalize("NFD", "müller"))[0] == "müller"
    assert safe_student_id("a/b")[0] == "a_b" and "made safe" in safe_student_id("a/b")[1]
    for raw in ("..\\evil", "../evil", "a\x00b", ".."):
        safe = safe_student_id(raw)[0]
        assert not {"/", "\\", "\x00"} & set(safe) and not safe.startswith(".") and safe not in (".", "..")
    assert safe_student_id(".bob")[0] == "_bob"
    assert safe_student_id("Jane Smith")[0] == "Jane_Smith"
    assert safe_student_id("..")[0] == ""


# --------------------------------------------------------------------------- platforms


def test_canvas_zip_with_reuploads_copies_late_and_anonymous(course, tmp_path):
    files = {
        "smithjane_1001_5001_mf.ipynb": answered("mf", "jane"),
        "doejohn_1002_5002_mf (1).ipynb": answered("mf", "john"),
        "leeann_1003_5003_mf-Copy1.ipynb": answered("mf", "ann"),
        "kimbo_LATE_1004_5004_mf.ipynb": answered("mf", "bo"),
        "parkeun_1005_5005_mf-1.ipynb": answered("mf", "eun"),
        # one submission with two files: Canvas named the second upload of mf.ipynb mf-1.ipynb
        "choimin_1006_5006_mf.ipynb": answered("mf", "min first"),
        "choimin_1006_5007_mf-1.ipynb": answered("mf", "min second"),
        "ngtom_1007_text.html": b"<p>see attachment</p>",
        "anon_ab12C_5008_mf.ipynb": answered("mf", "anonymous"),
        "LATE_anon_Zz9aa_5009_mf_1.ipynb": answered("mf", "anonymous late"),
    }
    archive = make_zip(tmp_path / "submissions.zip", files)
    entries = collect_archive(course, archive, ["mf"], roster=tmp_path / "roster.csv")
    assert_complete(entries, archive, course)
    found = by_member(entries)
    for member, student in [("smithjane_1001_5001_mf.ipynb", "smithjane"),
                            ("doejohn_1002_5002_mf (1).ipynb", "doejohn"),
                            ("leeann_1003_5003_mf-Copy1.ipynb", "leeann"), ("kimbo_LATE_1004_5004_mf.ipynb", "kimbo"),
                            ("parkeun_1005_5005_mf-1.ipynb", "parkeun"), ("anon_ab12C_5008_mf.ipynb", "anon_ab12C"),
                            ("LATE_anon_Zz9aa_5009_mf_1.ipynb", "anon_Zz9aa")]:
        entry = found[member]
        assert (entry.platform, entry.status, entry.student, entry.assignment, entry.notebook) == \
            ("canvas", "collected", student, "mf", "mf.ipynb"), entry
        assert stored(course, student, "mf") == files[member]
        assert not (course.submitted / student / "mf" / "timestamp.txt").exists()  # Canvas gives no time
    duplicate = found["doejohn_1002_5002_mf (1).ipynb"]
    assert duplicate.renamed and "mf (1).ipynb" in duplicate.reason
    assert "renamed" in found["leeann_1003_5003_mf-Copy1.ipynb"].flags
    assert not found["smithjane_1001_5001_mf.ipynb"].renamed and not found["smithjane_1001_5001_mf.ipynb"].flags
    late = found["kimbo_LATE_1004_5004_mf.ipynb"]
    assert late.late and "late" in late.flags and "LATE" in late.reason and late.platform_id == "1004"
    assert found["LATE_anon_Zz9aa_5009_mf_1.ipynb"].late
    # Canvas's -1 is the later upload: it wins; the first is superseded and names the winner.
    assert stored(course, "choimin", "mf") == files["choimin_1006_5007_mf-1.ipynb"]
    first = found["choimin_1006_5006_mf.ipynb"]
    assert first.status == "superseded" and "choimin_1006_5007_mf-1.ipynb" in first.reason
    assert "re-upload" in first.reason
    text = found["ngtom_1007_text.html"]
    assert (text.status, text.student) == ("not-a-notebook", "ngtom")
    roster = {r.student: r for r in read_roster(tmp_path / "roster.csv")}
    assert roster["kimbo"].platform == "canvas" and roster["kimbo"].platform_id == "1004"
    assert roster["ngtom"].platform_id == "1007"  # a student without a notebook is on the roster too
    assert roster["anon_ab12C"].platform_id == ""  # anonymous grading: nothing to map back to
    # Importing again gives everyone the same id (the anonymous too).
    again = collect_archive(course, archive, ["mf"], roster=tmp_path / "roster.csv")
    assert [(e.member, e.student) for e in again] == [(e.member, e.student) for e in entries]


def test_blackboard_attempts_latest_wins_and_receipts(course, tmp_path):
    def receipt(name: str, user: str, title: str, when: str, files: list[tuple[str, str]]) -> bytes:
        listed = "".join(f"\tOriginal filename: {o}\n\tFilename: {z}\n" for o, z in files)
        return (f"Name: {name} ({user})\nAssignment: {title}\nDate Submitted: {when}\nCurrent Grade: Needs Grading\n\n"
                f"Submission Field:\nThere is no student submission text data for this assignment.\n\nFiles:\n{listed}"
                ).encode("utf-8")

    title = "Homework 1_deep"
    first, second = f"{title}_j_smith_attempt_2025-03-01-09-00-00", f"{title}_j_smith_attempt_2025-03-02-21-30-00"
    other = f"{title}_bkim_attempt_2025-03-01-12-00-00"
    files = {
        f"{first}_deep.ipynb": release_bytes("deep"),
        f"{first}.txt": receipt("Jane Smith", "j_smith", title, "1 March 2025 09:00:00",
                                [("deep.ipynb", f"{first}_deep.ipynb")]),
        f"{second}_deep_final.ipynb": answered("deep", "jane"),
        f"{second}.txt": receipt("Jane Smith", "j_smith", title, "2 March 2025 21:30:00",
                                 [("deep.ipynb", f"{second}_deep_final.ipynb")]),
        f"{other}_deep.ipynb": answered("deep", "bo"),
        f"{other}.txt": receipt("Bo Kim", "bkim", title, "1 March 2025 12:00:00",
                                [("deep.ipynb", f"{other}_deep.ipynb")]),
    }
    archive = make_zip(tmp_path / "gradebook_attempts.zip", files)
    entries = collect_archive(course, archive)
    assert_complete(entries, archive, course)
    found = by_member(entries)
    latest = found[f"{second}_deep_final.ipynb"]
    assert (latest.platform, latest.status, latest.student, latest.assignment, latest.name) == \
        ("blackboard", "collected", "j_smith", "deep", "Jane Smith")  # the receipt resolves the "_" in the username
    assert latest.timestamp == datetime(2025, 3, 2, 21, 30)
    assert stored(course, "j_smith", "deep") == files[f"{second}_deep_final.ipynb"]
    assert (course.submitted / "j_smith" / "deep" / "timestamp.txt").read_text() == "2025-03-02 21:30:00"
    assert "latest of 2 attempts" in latest.reason
    assert not latest.needs_attention  # two attempts are normal
    earlier = found[f"{first}_deep.ipynb"]
    assert earlier.status == "superseded" and f"{second}_deep_final.ipynb" in earlier.reason
    assert "later attempt" in earlier.reason
    assert [found[m].status for m in (f"{first}.txt", f"{second}.txt", f"{other}.txt")] == ["receipt"] * 3
    assert found[f"{other}_deep.ipynb"].student == "bkim"
    assert stored(course, "bkim", "deep") == files[f"{other}_deep.ipynb"]


def release_bytes(assignment: str) -> bytes:
    return (REPO_ROOT / "exercises" / assignment / f"{assignment}.ipynb").read_bytes()


def test_moodle_folders_prefixes_and_blind_marking(course, tmp_path):
    files = {
        "Jane Smith_123456_assignsubmission_file": None,
        "Jane Smith_123456_assignsubmission_file/mf.ipynb": answered("mf", "jane"),
        "Jane Smith_123456_assignsubmission_onlinetext/onlinetext.html": b"<p>done</p>",
        "Jürgen Müller_123457_assignsubmission_file_/mf (1).ipynb": answered("mf", "jürgen"),  # Moodle < 4.x folder
        "Ann Lee_123458_assignsubmission_file_mf.ipynb": answered("mf", "ann"),  # no folders (the option off)
        "Participant_123459_assignsubmission_file/sub/mf.ipynb": answered("mf", "blind"),
    }
    archive = make_zip(tmp_path / "COURSE-mf-42.zip", files)
    entries = collect_archive(course, archive, roster=tmp_path / "roster.csv")
    assert_complete(entries, archive, course)
    found = by_member(entries)
    for member, pid, name in [("Jane Smith_123456_assignsubmission_file/mf.ipynb", "123456", "Jane Smith"),
                              ("Jürgen Müller_123457_assignsubmission_file_/mf (1).ipynb", "123457", "Jürgen Müller"),
                              ("Ann Lee_123458_assignsubmission_file_mf.ipynb", "123458", "Ann Lee"),
                              ("Participant_123459_assignsubmission_file/sub/mf.ipynb", "123459", "Participant")]:
        entry = found[member]
        assert (entry.platform, entry.status, entry.student, entry.platform_id, entry.name) == \
            ("moodle", "collected", pid, pid, name), entry
        assert stored(course, pid, "mf") == files[member]
    assert found["Jane Smith_123456_assignsubmission_file/"].status == "ignored"
    text = found["Jane Smith_123456_assignsubmission_onlinetext/onlinetext.html"]
    assert (text.status, text.student) == ("not-a-notebook", "123456")
    roster = {r.student: r for r in read_roster(tmp_path / "roster.csv")}
    assert (roster["123457"].platform, roster["123457"].name, roster["123457"].platform_id) == \
        ("moodle", "Jürgen Müller", "123457")
    assert roster["123457"].assignment == "mf"  # Moodle's participant ids hold for one assignment


def test_plain_zip_names_folders_and_a_zipped_submitted_folder(course, tmp_path):
    files = {
        "studenta_mf.ipynb": answered("mf", "a"),
        "jane_doe_mf (1).ipynb": answered("mf", "jane"),
        "studentb/mf.ipynb": answered("mf", "b"),
        "export/submitted/studentc/mf/mf.ipynb": answered("mf", "c"),
        "export/submitted/studentc/mf/timestamp.txt": b"2025-03-01 10:00:00.000000 UTC",
        "__MACOSX/._studenta_mf.ipynb": b"\x00\x05\x16\x07",
        ".DS_Store": b"\x00\x00\x00\x01Bud1",
        "studentb/.ipynb_checkpoints/mf-checkpoint.ipynb": answered("mf", "b old"),
        "mf.ipynb": answered("mf", "whose?"),
        "notes.txt": b"grade these",
    }
    archive = make_zip(tmp_path / "class.zip", files)
    entries = collect_archive(course, archive)
    assert_complete(entries, archive, course)
    found = by_member(entries)
    for member, student in [("studenta_mf.ipynb", "studenta"), ("jane_doe_mf (1).ipynb", "jane_doe"),
                            ("studentb/mf.ipynb", "studentb"), ("export/submitted/studentc/mf/mf.ipynb", "studentc")]:
        assert (found[member].platform, found[member].status, found[member].student) == ("plain", "collected", student)
        assert stored(course, student, "mf") == files[member]
    assert found["export/submitted/studentc/mf/mf.ipynb"].timestamp == datetime(2025, 3, 1, 10, 0)
    assert found["export/submitted/studentc/mf/timestamp.txt"].status == "receipt"
    for member in ("__MACOSX/._studenta_mf.ipynb", ".DS_Store", "studentb/.ipynb_checkpoints/mf-checkpoint.ipynb"):
        assert found[member].status == "ignored" and not found[member].needs_attention
    for member in ("mf.ipynb", "notes.txt"):  # no student in the name: reported with it
        assert (found[member].status, found[member].platform, found[member].student) == ("unmatched", "unknown", None)
        assert found[member].needs_attention
        assert member in format_intake(entries)


def test_mixed_zip_every_student_and_file_accounted_for(course, tmp_path):
    files = {
        "canvas/smithjane_1001_5001_mf.ipynb": answered("mf", "jane"),
        "bb/HW2_bkim_attempt_2025-03-01-12-00-00_deep.ipynb": answered("deep", "bo"),
        "moodle/Ann Lee_77_assignsubmission_file/deep (1).ipynb": answered("deep", "ann"),
        "plain/carlos_mf.ipynb": answered("mf", "carlos"),
        "plain/carlos_deep.ipynb": answered("deep", "carlos"),
        "stray.ipynb": answered("mf", "stray"),
    }
    archive = make_zip(tmp_path / "mixed.zip", files)
    entries = collect_archive(course, archive, roster=tmp_path / "roster.csv")
    assert_complete(entries, archive, course)
    found = by_member(entries)
    expected = {"canvas/smithjane_1001_5001_mf.ipynb": ("canvas", "smithjane", "mf"),
                "bb/HW2_bkim_attempt_2025-03-01-12-00-00_deep.ipynb": ("blackboard", "bkim", "deep"),
                "moodle/Ann Lee_77_assignsubmission_file/deep (1).ipynb": ("moodle", "77", "deep"),
                "plain/carlos_mf.ipynb": ("plain", "carlos", "mf"),
                "plain/carlos_deep.ipynb": ("plain", "carlos", "deep")}
    for member, (platform, student, assignment) in expected.items():
        entry = found[member]
        assert (entry.platform, entry.student, entry.assignment, entry.status) == \
            (platform, student, assignment, "collected")
        assert stored(course, student, assignment) == files[member]
    assert found["stray.ipynb"].status == "unmatched"
    roster = read_roster(tmp_path / "roster.csv")
    # Platform accounts only: a plain zip's ids are the course's own.
    assert {(r.student, r.platform, r.assignment) for r in roster} == {
        ("smithjane", "canvas", ""), ("bkim", "blackboard", ""), ("77", "moodle", "deep")}
    # The same zip for one assignment: the other's notebooks are listed, not written.
    other = tmp_path / "other"
    shutil.copytree(course.exercises, other / "exercises")
    only_mf = by_member(collect_archive(Course(other), archive, ["mf"]))
    for member in ("bb/HW2_bkim_attempt_2025-03-01-12-00-00_deep.ipynb", "plain/carlos_deep.ipynb"):
        assert only_mf[member].status == "other-assignment" and only_mf[member].assignment == "deep"
        assert "deep" in only_mf[member].reason
    assert not (other / "submitted" / "bkim").exists()
    assert only_mf["plain/carlos_mf.ipynb"].status == "collected"


# --------------------------------------------------------------------------- what files hold


def test_damaged_notebook_is_collected_under_its_student(course, tmp_path):
    files = {
        "smithjane_1001_5001_mf.ipynb": b'{"cells": [ broken',
        "doejohn_1002_5002_homework.ipynb": b"",  # the name says nothing, the content neither
        "leeann_1003_5003_mf.ipynb": answered("mf", "ann"),
    }
    archive = make_zip(tmp_path / "submissions.zip", files)
    entries = collect_archive(course, archive, ["mf"])
    assert_complete(entries, archive, course)
    found = by_member(entries)
    broken = found["smithjane_1001_5001_mf.ipynb"]
    assert (broken.status, broken.student, broken.notebook) == ("collected", "smithjane", "mf.ipynb")
    assert "damaged" in broken.flags and "not valid JSON" in broken.reason
    assert stored(course, "smithjane", "mf") == files["smithjane_1001_5001_mf.ipynb"]
    empty = found["doejohn_1002_5002_homework.ipynb"]
    assert (empty.status, empty.student, empty.assignment) == ("collected", "doejohn", "mf")
    assert {"damaged", "guessed-assignment"} <= set(empty.flags) and "only assignment" in empty.reason
    # Without an assignment to fall back on, it is reported, with its student.
    # A name that contains the notebook's as a word still places a damaged file ...
    mixed = make_zip(tmp_path / "mixed.zip", {"doejohn_homework.ipynb": b"", "ann_mf.ipynb": answered("mf", "a"),
                                              "bo_deep.ipynb": answered("deep", "b"),
                                              "kimbo_1004_5004_mf_final.ipynb": b"{"})
    other = Course(tmp_path / "other")
    shutil.copytree(course.exercises, other.exercises)
    found = by_member(collect_archive(other, mixed))
    loose = found["kimbo_1004_5004_mf_final.ipynb"]
    assert (loose.status, loose.student, loose.assignment, loose.renamed) == ("collected", "kimbo", "mf", True)
    # ... without one, and without a single assignment to fall back on, it is reported, with its student.
    unplaced = found["doejohn_homework.ipynb"]
    assert (unplaced.status, unplaced.student) == ("not-an-assignment", "doejohn")


def test_damaged_zip_member_and_oversized_file_are_reported_with_their_student(course, tmp_path, monkeypatch):
    import grader.intake as intake

    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as handle:
        handle.writestr("smithjane_1001_5001_mf.ipynb", b'{"cells": [], "corrupted-here": 1}')
        handle.writestr("doejohn_1002_5002_mf.ipynb", answered("mf", "john"))
    archive.write_bytes(archive.read_bytes().replace(b"corrupted-here", b"CORRUPTED-HERE"))  # the CRC no longer fits
    found = by_member(collect_archive(course, archive))
    broken = found["smithjane_1001_5001_mf.ipynb"]
    assert (broken.status, broken.student) == ("unreadable", "smithjane") and "download the zip again" in broken.reason
    assert found["doejohn_1002_5002_mf.ipynb"].status == "collected"  # the batch goes on
    monkeypatch.setattr(intake, "MAX_FILE_BYTES", 1000)
    found = by_member(collect_archive(course, archive))
    assert (found["doejohn_1002_5002_mf.ipynb"].status, found["doejohn_1002_5002_mf.ipynb"].student) == \
        ("too-large", "doejohn")


def test_file_that_matches_no_pattern_is_reported_by_name(course, tmp_path):
    archive = make_zip(tmp_path / "odd.zip", {"final version.ipynb": answered("mf", "x"), "README": b"hello"})
    entries = collect_archive(course, archive)
    assert_complete(entries, archive, course)
    assert {e.member: e.status for e in entries} == {"final version.ipynb": "unmatched", "README": "unmatched"}
    assert not course.submitted.exists()
    summary = format_intake(entries)
    assert "final version.ipynb" in summary and "README" in summary


def test_other_assignments_notebook_under_this_ones_name(course, tmp_path):
    files = {"smithjane_1001_5001_mf.ipynb": answered("deep", "jane")}
    archive = make_zip(tmp_path / "submissions.zip", files)
    entry = by_member(collect_archive(course, archive, ["mf"]))["smithjane_1001_5001_mf.ipynb"]
    # Handed in for mf: collected as mf (the grader scores it with its reason), and flagged.
    assert (entry.status, entry.assignment, entry.notebook) == ("collected", "mf", "mf.ipynb")
    assert "other-notebook" in entry.flags and "deep.ipynb" in entry.reason and entry.needs_attention
    # Importing for deep, the same file is deep's notebook by its cells.
    other = Course(tmp_path / "other")
    shutil.copytree(course.exercises, other.exercises)
    entry = by_member(collect_archive(other, archive, ["deep"]))["smithjane_1001_5001_mf.ipynb"]
    assert (entry.status, entry.assignment, entry.notebook, entry.renamed) == ("collected", "deep", "deep.ipynb", True)
    assert "by-content" in entry.flags
    assert (other.submitted / "smithjane" / "deep" / "deep.ipynb").read_bytes() == files["smithjane_1001_5001_mf.ipynb"]


def test_renamed_notebooks_recognised_by_grade_ids_or_provided_text(course, tmp_path):
    real = CASES / "04-vscode-metadata-stripped" / "submitted" / "vscode_student" / "mf" / "mf.ipynb"
    files = {
        "smithjane_1001_5001_Untitled.ipynb": answered("mf", "jane"),
        "doejohn_1002_5002_homework (2).ipynb": stripped(answered("mf", "john")),
        "leeann_1003_5003_my work.ipynb": stripped(answered("deep", "ann")),
        "kimbo_1004_5004_scratch.ipynb": nbformat.writes(nbformat.v4.new_notebook(cells=[
            nbformat.v4.new_code_cell("print('hello')")])).encode("utf-8"),
    }
    if real.is_file():
        files["vscode_1005_5005_notebook.ipynb"] = real.read_bytes()
    archive = make_zip(tmp_path / "submissions.zip", files)
    entries = collect_archive(course, archive)
    assert_complete(entries, archive, course)
    found = by_member(entries)
    expectations = {"smithjane_1001_5001_Untitled.ipynb": ("mf", "nbgrader ids"),
                    "doejohn_1002_5002_homework (2).ipynb": ("mf", "provided cells"),
                    "leeann_1003_5003_my work.ipynb": ("deep", "provided cells"),
                    "vscode_1005_5005_notebook.ipynb": ("mf", "provided cells")}
    for member, (assignment, how) in expectations.items():
        if member not in files:
            continue
        entry = found[member]
        assert (entry.status, entry.assignment, entry.renamed) == ("collected", assignment, True), entry
        assert "by-content" in entry.flags and how in entry.reason
        assert stored(course, entry.student, assignment) == files[member]
    # A notebook that is no release's, in a zip of two assignments: reported, with its student.
    scratch = found["kimbo_1004_5004_scratch.ipynb"]
    assert (scratch.status, scratch.student) == ("not-an-assignment", "kimbo")


def test_notebook_of_an_earlier_release_recognised_through_the_release_history(course, tmp_path):
    """A student who started from an earlier release (every provided cell worded differently then)."""
    old = release("mf")
    for cell in old.cells:
        if nbs.is_locked(cell) and not nbs.is_solution(cell) and nbs.source(cell).strip():
            cell.source = nbs.source(cell) + "\n# (first release)"
    raw = stripped(nbformat.writes(old).encode("utf-8"))
    archive = make_zip(tmp_path / "submissions.zip", {"smithjane_1001_5001_homework.ipynb": raw})
    history = course.exercises / "release-history.json"
    history.unlink(missing_ok=True)
    other = Course(tmp_path / "other")
    shutil.copytree(course.exercises, other.exercises)
    without = collect_archive(course, archive)[0]
    assert without.status == "not-an-assignment"  # two assignments, and the cells match no release
    history = other.exercises / "release-history.json"
    history.write_text(json.dumps({"mf": {"mf.ipynb": [{"released": "2026-01-01T00:00:00+00:00", "solutions_sha256": "",
                                                        "cells": provided_cells(old)}]}}), encoding="utf-8")
    found = collect_archive(other, archive)[0]
    assert (found.status, found.assignment, found.student) == ("collected", "mf", "smithjane")
    assert "provided cells" in found.reason


def test_same_student_same_notebook_identical_and_preferred_copies(course, tmp_path):
    good = answered("mf", "jane")
    files = {
        "smithjane_1001_5001_mf.ipynb": b"not a notebook",
        "smithjane_1001_5002_mf (1).ipynb": good,
        "doejohn_1002_5003_mf.ipynb": answered("mf", "john"),
        "doejohn_1002_5004_mf-Copy1.ipynb": answered("mf", "john"),
        "leeann_1003_5005_Untitled.ipynb": answered("mf", "ann untitled"),
        "leeann_1003_5006_mf.ipynb": answered("mf", "ann named"),
    }
    archive = make_zip(tmp_path / "submissions.zip", files)
    entries = collect_archive(course, archive)
    assert_complete(entries, archive, course)
    found = by_member(entries)
    assert stored(course, "smithjane", "mf") == good  # a readable notebook over a damaged one
    assert "readable notebook" in found["smithjane_1001_5001_mf.ipynb"].reason
    assert found["doejohn_1002_5003_mf.ipynb"].status == "superseded"
    assert "identical" in found["doejohn_1002_5003_mf.ipynb"].reason
    assert "several-files" not in found["doejohn_1002_5004_mf-Copy1.ipynb"].flags  # identical copies: nothing to check
    assert stored(course, "leeann", "mf") == files["leeann_1003_5006_mf.ipynb"]  # the released name over a renamed one
    assert "released name" in found["leeann_1003_5005_Untitled.ipynb"].reason
    assert "several-files" in found["leeann_1003_5006_mf.ipynb"].flags


def test_uploaded_zip_is_opened_as_the_students_files(course, tmp_path):
    inner = tmp_path / "inner.zip"
    make_zip(inner, {"work/mf.ipynb": answered("mf", "jane"), "__MACOSX/work/._mf.ipynb": b"\x00"})
    archive = make_zip(tmp_path / "submissions.zip", {"smithjane_1001_5001_work.zip": inner.read_bytes()})
    entries = collect_archive(course, archive)
    assert_complete(entries, archive, course)
    found = by_member(entries)
    assert found["smithjane_1001_5001_work.zip"].status == "unpacked"
    entry = found["smithjane_1001_5001_work.zip!/work/mf.ipynb"]
    assert (entry.status, entry.platform, entry.student, entry.platform_id) == \
        ("collected", "canvas", "smithjane", "1001")
    assert found["smithjane_1001_5001_work.zip!/__MACOSX/work/._mf.ipynb"].status == "ignored"


# --------------------------------------------------------------------------- students


def test_non_ascii_and_unsafe_ids(course, tmp_path):
    files = {
        unicodedata.normalize("NFD", "müller") + "/mf.ipynb": answered("mf", "müller"),  # made on macOS
        "müllerjürgen_1001_5001_mf.ipynb": answered("mf", "jürgen"),
        "Jane Smith/mf.ipynb": answered("mf", "jane"),
        "HW_.bob_attempt_2025-03-01-09-00-00_mf.ipynb": answered("mf", "bob"),
    }
    archive = make_zip(tmp_path / "ids.zip", files)
    entries = collect_archive(course, archive)
    assert_complete(entries, archive, course)
    students = {e.student: e for e in entries if e.status == "collected"}
    assert set(students) == {"müller", "müllerjürgen", "Jane_Smith", "_bob"}
    assert not students["müller"].flags and not students["müllerjürgen"].flags  # non-ASCII is fine as it is
    for student in ("Jane_Smith", "_bob"):
        assert "unsafe-id" in students[student].flags and "made safe" in students[student].reason
    assert (course.submitted / "müller" / "mf" / "mf.ipynb").is_file()


def test_zip_without_the_utf8_flag(course, tmp_path):
    """Windows and older zip tools store UTF-8 names without saying so; zipfile reads them as cp437."""
    placeholder, real = "mXXller_mf.ipynb", "müller_mf.ipynb"
    assert len(placeholder.encode()) == len(real.encode())
    archive = make_zip(tmp_path / "legacy.zip", {placeholder: answered("mf", "m")})
    archive.write_bytes(archive.read_bytes().replace(placeholder.encode(), real.encode()))
    with zipfile.ZipFile(archive) as handle:
        assert not handle.infolist()[0].flag_bits & 0x800 and handle.namelist() != [real]
    entries = collect_archive(course, archive)
    assert [(e.member, e.student, e.status) for e in entries] == [(real, "müller", "collected")]


def test_two_accounts_with_one_name_and_a_stable_roster(course, tmp_path):
    files = {"smithjane_1001_5001_mf.ipynb": answered("mf", "first"),
             "smithjane_1002_5002_mf.ipynb": answered("mf", "second")}
    archive = make_zip(tmp_path / "submissions.zip", files)
    roster = tmp_path / "roster.csv"
    entries = by_member(collect_archive(course, archive, roster=roster))
    assert entries["smithjane_1001_5001_mf.ipynb"].student == "smithjane-1001"
    assert entries["smithjane_1002_5002_mf.ipynb"].student == "smithjane-1002"
    assert "same-id" in entries["smithjane_1001_5001_mf.ipynb"].flags
    assert stored(course, "smithjane-1002", "mf") == files["smithjane_1002_5002_mf.ipynb"]
    # Next assignment: the roster keeps the ids, whoever submits.
    deep = make_zip(tmp_path / "deep.zip", {"smithjane_1002_6001_deep.ipynb": answered("deep", "second")})
    assert collect_archive(course, deep, roster=roster)[0].student == "smithjane-1002"
    with open(roster, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["student", "platform", "name", "platform_id", "assignment"]
    assert {(r["student"], r["platform_id"]) for r in rows} == {("smithjane-1001", "1001"), ("smithjane-1002", "1002")}
    # A new account with a name the roster already gives to someone else does not take it.
    later = make_zip(tmp_path / "later.zip", {"doejohn_2001_7001_mf.ipynb": answered("mf", "x")})
    collect_archive(course, later, roster=roster)
    again = make_zip(tmp_path / "again.zip", {"doejohn_2002_7002_mf.ipynb": answered("mf", "y")})
    assert collect_archive(course, again, roster=roster)[0].student == "doejohn-2002"


def test_reimport_keeps_a_later_submission_and_says_what_it_replaced(course, tmp_path):
    newer = make_zip(tmp_path / "last.zip", {"HW_bkim_attempt_2025-03-05-10-00-00_mf.ipynb": answered("mf", "new")})
    older = make_zip(tmp_path / "all.zip", {"HW_bkim_attempt_2025-03-01-10-00-00_mf.ipynb": answered("mf", "old")})
    collect_archive(course, newer)
    entry = collect_archive(course, older)[0]
    assert entry.status == "superseded" and "later submission" in entry.reason
    assert stored(course, "bkim", "mf") == answered("mf", "new")
    canvas = make_zip(tmp_path / "canvas.zip", {"bkim_1_2_mf.ipynb": answered("mf", "canvas")})
    entry = collect_archive(course, canvas)[0]
    assert entry.status == "collected" and "replaced" in entry.flags
    assert not (course.submitted / "bkim" / "mf" / "timestamp.txt").exists()  # the old time is not this file's


def test_bad_input_is_refused_with_the_file_named(course, tmp_path):
    not_zip = tmp_path / "grades.zip"
    not_zip.write_bytes(b"PK no zip")
    with pytest.raises(ValueError, match="grades.zip is not a readable zip"):
        collect_archive(course, not_zip)
    archive = make_zip(tmp_path / "ok.zip", {"a_mf.ipynb": answered("mf", "a")})
    with pytest.raises(ValueError, match="'rank' is not released"):
        collect_archive(course, archive, ["rank"])


def test_report_and_summary_list_every_file(course, tmp_path):
    archive = make_zip(tmp_path / "s.zip", {"smithjane_1001_5001_mf (1).ipynb": answered("mf", "a"), "x.pdf": b"%PDF"})
    entries = collect_archive(course, archive)
    path = tmp_path / "intake.csv"
    write_intake_report(entries, path)
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["member"] for r in rows] == [e.member for e in entries]
    assert rows[0]["flags"] == "renamed" and rows[0]["status"] == "collected"
    summary = format_intake(entries)
    assert "1 notebook(s) of 1 student(s) collected (Canvas)" in summary and "x.pdf" in summary


# --------------------------------------------------------------------------- a folder filled by hand


def test_find_notebook_in_a_folder_filled_by_hand(course, tmp_path):
    releases = course.release_notebooks("mf")
    folder = tmp_path / "studenta" / "mf"
    folder.mkdir(parents=True)
    assert find_notebook(folder, "mf.ipynb", releases) == (None, f"no mf.ipynb in {folder} (nor any other notebook)")
    (folder / "mf (1).ipynb").write_bytes(b"damaged")
    path, note = find_notebook(folder, "mf.ipynb", releases)
    assert path == folder / "mf (1).ipynb" and "graded mf (1).ipynb as mf.ipynb" in note
    (folder / "Untitled.ipynb").write_bytes(stripped(answered("mf", "a")))
    path, note = find_notebook(folder, "mf.ipynb", releases)
    assert path is None and "mf (1).ipynb" in note and "Untitled.ipynb" in note
    (folder / "mf (1).ipynb").unlink()
    path, note = find_notebook(folder, "mf.ipynb", releases)
    assert path == folder / "Untitled.ipynb" and "provided cells" in note
    (folder / "Untitled.ipynb").write_bytes(answered("deep", "wrong"))
    path, note = find_notebook(folder, "mf.ipynb", releases)
    assert path is None and "Untitled.ipynb" in note and "not mf.ipynb" in note
    (folder / "mf.ipynb").write_bytes(answered("mf", "b"))
    assert find_notebook(folder, "mf.ipynb", releases) == (folder / "mf.ipynb", "")


# --------------------------------------------------------------------------- the real cases


@pytest.mark.skipif(not CASES.is_dir(), reason="the shared case folder is not on this machine")
def test_real_canvas_zip_with_renamed_files(course):
    archive = CASES / "11-canvas-zip-renamed-files" / "canvas_submissions.zip"
    entries = collect_archive(course, archive, ["mf"])
    assert_complete(entries, archive, course)
    collected = {e.student: e for e in entries if e.status == "collected"}
    assert set(collected) == {"studenta", "studentb", "studentc", "studentd"}  # nobody missing
    assert collected["studentb"].renamed and collected["studentc"].renamed
    assert collected["studentd"].late and not collected["studenta"].flags
    for student in collected:
        nb = nbs.read_notebook(course.submitted / student / "mf" / "mf.ipynb")[0]
        assert any(nbs.grade_id(c) == "task1-factors" for c in nb.cells)


@pytest.mark.skipif(not CASES.is_dir(), reason="the shared case folder is not on this machine")
def test_real_blackboard_zip_with_attempts(course):
    archive = CASES / "12-blackboard-zip-attempts" / "gradebook_Homework1_attempts.zip"
    entries = collect_archive(course, archive)
    assert_complete(entries, archive, course)
    collected = {e.student: e for e in entries if e.status == "collected"}
    assert set(collected) == {"studenta", "studentb"}  # not one student "Homework1"
    assert collected["studenta"].timestamp == datetime(2025, 3, 2, 21, 30)
    assert collected["studenta"].assignment == "deep"
    assert collected["studenta"].name == "Student A"
    superseded = [e for e in entries if e.status == "superseded"]
    assert [e.member for e in superseded] == ["Homework1_studenta_attempt_2025-03-01-09-00-00_deep.ipynb"]
    assert sum(e.status == "receipt" for e in entries) == 3
    with zipfile.ZipFile(archive) as handle:
        latest = handle.read("Homework1_studenta_attempt_2025-03-02-21-30-00_deep.ipynb")
    assert stored(course, "studenta", "deep") == latest


# --------------------------------------------------------------------------- students without a notebook


def test_a_student_without_a_collectable_file_gets_a_row_of_0_with_the_files_and_what_to_do(course, tmp_path):
    """No student the intake saw disappears: a text file alone (greenkim_55555_11111_notes.txt of 2026-11-30),
    another assignment's notebook, or an upload that names no assignment in a zip of several, is graded 0 with
    its file named and what to do, in the report's rows and the cohort summary's counts."""
    from grader.cohort import format_cohort_summary
    from grader.pipeline import Submission, _rows, unusable_uploads

    files = {"smithjane_1001_5001_mf.ipynb": answered("mf", "jane"),
             "greenkim_55555_11111_notes.txt": b"my notes",
             "leeann_1003_5003_mf.ipynb": answered("mf", "ann"),
             "leeann_1003_5004_readme.txt": b"see the notebook"}
    archive = make_zip(tmp_path / "canvas.zip", files)
    entries = collect_archive(course, archive, roster=tmp_path / "roster.csv")
    assert_complete(entries, archive, course)
    notes = by_member(entries)["greenkim_55555_11111_notes.txt"]
    assert (notes.status, notes.student, notes.assignment) == ("not-a-notebook", "greenkim", "mf")
    unusable = unusable_uploads(entries, ["mf"])
    assert list(unusable) == [("greenkim", "mf")]  # leeann's readme beside her notebook costs nothing
    reason = unusable[("greenkim", "mf")]
    assert "greenkim_55555_11111_notes.txt" in reason and "not a notebook" in reason
    assert "ask the student to hand in the notebook of mf" in reason.lower() and "; " not in reason
    rows = _rows(course, Submission("greenkim", "mf", rejected=reason), {"mf.ipynb": release("mf")})
    assert rows and all(r.score == 0 and r.status == "not graded" and "notes.txt" in r.message for r in rows)
    assert sum(r.max_score for r in rows) == 10
    summary = format_cohort_summary(rows)
    assert "1 student(s): 0 graded, 1 could not be graded" in summary and "greenkim" in summary

    # A zip of two assignments: a text file names neither, so it counts for each graded (the student has nothing
    # else); a student with a notebook of one of them loses nothing for a stray file.
    other = Course(tmp_path / "other")
    shutil.copytree(course.exercises, other.exercises)
    mixed = make_zip(tmp_path / "mixed.zip", {"greenkim_55555_11111_notes.txt": b"notes",
                                              "ann_1_2_mf.ipynb": answered("mf", "a"),
                                              "ann_1_3_notes.txt": b"notes",
                                              "bo_3_4_deep.ipynb": answered("deep", "b")})
    entries = collect_archive(other, mixed)
    assert by_member(entries)["greenkim_55555_11111_notes.txt"].assignment is None
    unusable = unusable_uploads(entries, ["deep", "mf"])
    assert sorted(unusable) == [("greenkim", "deep"), ("greenkim", "mf")]
    assert "names none of the assignments graded (deep, mf)" in unusable[("greenkim", "mf")]

    # Imported for mf only, a student who handed in deep's notebook alone is graded 0 in mf, with what to do.
    only_mf = Course(tmp_path / "only-mf")
    shutil.copytree(course.exercises, only_mf.exercises)
    entries = collect_archive(only_mf, make_zip(tmp_path / "mf.zip", {"bo_3_4_deep.ipynb": answered("deep", "b"),
                                                                      "ann_1_2_mf.ipynb": answered("mf", "a")}),
                              ["mf"])
    assert list(unusable_uploads(entries, ["mf"])) == [("bo", "mf")]
    assert "If the student meant it for mf, put it in submitted/bo/mf/" in unusable_uploads(entries, ["mf"])[("bo", "mf")]
