"""Autograde every submission, write feedback, export the grades and print a summary (`make grade`).

Steps, in the course folder (the repository root by default):

1. With --zip: import a learning platform's zip of submissions. For each
   assignment whose notebook names occur in the zip, the zip is put in
   downloads/<assignment>/archive/ and `nbgrader zip_collect <assignment>
   --force --strict` extracts it into submitted/<student>/<assignment>/; the
   student id and notebook are read from each file name with
   FileNameCollectorPlugin.named_regexp (nbgrader_config.py).
2. If the gradebook does not know an assignment yet (a fresh clone), record it
   by generating it from solutions/ into a temporary folder, and stop if that
   differs from the committed exercises/ (students must be graded against the
   notebooks they received: run `make release` and commit first).
3. `nbgrader autograde <assignment> --force` for every assignment with
   submissions (all students; --force so that regrading works).
4. `nbgrader generate_feedback <assignment> --force`: feedback/<student>/<assignment>/<notebook>.html.
5. `nbgrader export`: grades.csv, one line per student and assignment.
6. A summary per student and task, printed and written to grading_report.csv.

Usage:
    python scripts/grade.py [--course-dir DIR] [--zip PATH] [--assignment NAME ...] [--collect-only]
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from nbgrader_course import REPO_ROOT, assignment_names, nbgrader, tree_differences


def _named_regexp(course: Path) -> str:
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    return config.FileNameCollectorPlugin.named_regexp


def assignments_in_zip(course: Path, archive: Path, candidates: list[str]) -> list[str]:
    """The assignments whose notebook names occur in the zip, read with the configured file-name pattern."""
    pattern = re.compile(_named_regexp(course))
    notebooks = {
        name: {p.stem for p in (course / "exercises" / name).glob("*.ipynb")} for name in candidates
    }
    found = set()
    with zipfile.ZipFile(archive) as handle:
        for member in handle.namelist():
            if not member.endswith(".ipynb"):
                continue
            match = pattern.match("/extracted/" + member)
            if not match:
                continue
            stem = Path(match.group("file_id")).stem
            found.update(name for name, stems in notebooks.items() if stem in stems)
    return sorted(found)


def collect_zip(course: Path, archive: Path, assignments: list[str]) -> None:
    """Import the zip into submitted/ with `nbgrader zip_collect`, once per assignment."""
    for name in assignments:
        downloads = course / "downloads" / name
        shutil.rmtree(downloads, ignore_errors=True)
        (downloads / "archive").mkdir(parents=True)
        shutil.copy2(archive, downloads / "archive" / archive.name)
        nbgrader(course, "zip_collect", name, "--force", "--strict")


def _known_assignments(course: Path) -> set[str]:
    database = course / "gradebook.db"
    if not database.exists():
        return set()
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{database}") as gradebook:
        return {a.name for a in gradebook.assignments if a.notebooks}


def ensure_in_gradebook(course: Path, assignments: list[str]) -> None:
    """Record unknown assignments in the gradebook without touching exercises/, checking they match it."""
    known = _known_assignments(course)
    for name in assignments:
        if name in known:
            continue
        with tempfile.TemporaryDirectory(prefix="release-") as scratch:
            nbgrader(course, "generate_assignment", name, "--force", "--log-level=WARN",
                     f"--CourseDirectory.release_directory={scratch}")
            differences = tree_differences(Path(scratch) / name, course / "exercises" / name)
        if differences:
            raise SystemExit(
                f"exercises/{name} differs from what solutions/{name} generates ({differences[0]}): "
                "run `make release`, commit, and grade against the notebooks the students received."
            )


def submitted_assignments(course: Path, assignments: list[str]) -> list[str]:
    """The assignments with at least one notebook under submitted/<student>/<assignment>/."""
    return [name for name in assignments if any((course / "submitted").glob(f"*/{name}/*.ipynb"))]


def grade(course: Path, assignments: list[str]) -> int:
    """Autograde, write feedback and export; returns the number of nbgrader steps that reported errors."""
    failures = 0
    for name in assignments:
        failures += nbgrader(course, "autograde", name, "--force", check=False).returncode != 0
        failures += nbgrader(course, "generate_feedback", name, "--force", check=False).returncode != 0
    nbgrader(course, "export", "--log-level=WARN")
    return failures


def summarise(course: Path, assignments: list[str]) -> None:
    """Print the per-student, per-task summary and write grading_report.csv."""
    from recsys_ref.grading.report import collect_scores, format_summary, write_report

    rows = collect_scores(course, assignments)
    print()
    print(format_summary(rows))
    write_report(rows, course / "grading_report.csv")
    print("Grades: grades.csv (per assignment), grading_report.csv (per task, with messages);")
    print("feedback for students: feedback/<student>/<assignment>/<notebook>.html")


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--course-dir", type=Path, default=REPO_ROOT, help="the course folder (default: the repository)")
    parser.add_argument("--zip", type=Path, help="a zip of submissions downloaded from the learning platform")
    parser.add_argument("--assignment", action="append", help="only this assignment (repeatable; default: all)")
    parser.add_argument("--collect-only", action="store_true", help="import the zip into submitted/ and stop")
    args = parser.parse_args()

    course = args.course_dir.resolve()
    candidates = args.assignment or assignment_names(course)
    if args.zip:
        archive = args.zip.resolve()
        if not archive.is_file():
            raise SystemExit(f"{archive}: no such file.")
        found = args.assignment or assignments_in_zip(course, archive, candidates)
        if not found:
            raise SystemExit(
                f"No notebook in {archive.name} matches an assignment ({', '.join(candidates)}) through "
                "FileNameCollectorPlugin.named_regexp in nbgrader_config.py: adapt the pattern to the "
                "file names, or name the assignment with ASSIGNMENT=<name>."
            )
        collect_zip(course, archive, found)
    if args.collect_only:
        return
    to_grade = submitted_assignments(course, candidates)
    if not to_grade:
        raise SystemExit("No submissions: put them in submitted/<student>/<assignment>/<notebook>.ipynb, or pass ZIP=<file>.")
    ensure_in_gradebook(course, to_grade)
    failures = grade(course, to_grade)
    summarise(course, to_grade)
    if failures:
        print(f"{failures} nbgrader step(s) reported errors: see the log above.", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
