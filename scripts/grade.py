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
3. Check every submission against the released notebook
   (recsys_ref.grading.tamper): a file that is not a usable notebook (invalid
   JSON, empty, nbformat 3, another assignment's, wrongly named) scores 0 with
   the reason; edits of locked cells, added cells, monkeypatching, use of the
   reference implementation, file or process access are flagged. The copies
   nbgrader grades go to .grading/submitted/ (students' files stay as they
   are), with the cells that monkeypatch or call the reference replaced by a
   `raise` (those tasks score 0, the others keep their points).
4. `nbgrader autograde <assignment> --force` on those copies, every kernel
   under the limits of c.GradingLimits (recsys_ref.grading.sandbox) with
   recsys_ref.grading.guard loaded (it undoes monkeypatching after each
   cell). A notebook whose kernel died (os._exit, a killed kernel, the
   notebook's time limit) is graded again without the cell that was running,
   up to `max_regrades` times; if it still fails it scores 0 with the reason.
5. `nbgrader generate_feedback <assignment> --force`: feedback/<student>/<assignment>/<notebook>.html.
6. `nbgrader export`: grades.csv, one line per student and assignment.
7. A summary per student and task, printed and written to grading_report.csv
   (score, message, flags).

Usage:
    python scripts/grade.py [--course-dir DIR] [--zip PATH] [--assignment NAME ...] [--collect-only]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from nbgrader_course import REPO_ROOT, assignment_names, nbgrader, tree_differences

STAGING = ".grading"  # under the course folder: the graded copies, the kernel spec, the kernels' logs
KERNEL_NAME = "recsys-grading"
DEFAULT_LIMITS = {
    "memory_mb": 4096, "file_mb": 100, "processes": 0, "cpu_seconds": 0, "notebook_seconds": 600, "max_regrades": 3,
}


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


def load_limits(course: Path) -> dict:
    """c.GradingLimits from nbgrader_config.py over :data:`DEFAULT_LIMITS`."""
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    limits = dict(DEFAULT_LIMITS)
    limits.update({k: v for k, v in dict(config.get("GradingLimits", {})).items()})
    return limits


def write_kernel_spec(staging: Path, limits: dict) -> Path:
    """A kernel spec that starts the kernel through recsys_ref.grading.sandbox with the guard loaded."""
    kernels = staging / "jupyter" / "kernels" / KERNEL_NAME
    kernels.mkdir(parents=True, exist_ok=True)
    kernel_limits = {k: limits[k] for k in ("memory_mb", "file_mb", "processes", "cpu_seconds", "notebook_seconds")}
    spec = {
        "argv": [sys.executable, "-m", "recsys_ref.grading.sandbox", "--limits", json.dumps(kernel_limits), "--",
                 sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                 "--IPKernelApp.extensions=recsys_ref.grading.guard"],
        "display_name": "Python 3 (grading, limited)",
        "language": "python",
        "interrupt_mode": "signal",
    }
    (kernels / "kernel.json").write_text(json.dumps(spec, indent=1))
    return staging / "jupyter"


def _release_notebooks(course: Path, assignment: str) -> dict[str, dict]:
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted((course / "exercises" / assignment).glob("*.ipynb"))}


def _graded_cells(release_nb: dict) -> list[tuple[str, float]]:
    cells = []
    for cell in release_nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            cells.append((meta["grade_id"], float(meta.get("points") or 0)))
    return cells


class Submission:
    """One student's submission of one assignment, as the grader sees it."""

    def __init__(self, student: str, assignment: str) -> None:
        self.student, self.assignment = student, assignment
        self.flags: list[str] = []
        self.rejected = ""  # why the submission scores 0 without running, if it does
        self.notebooks: dict[str, dict] = {}  # notebook file name -> submitted JSON
        self.skip: dict[str, dict[str, str]] = {}  # notebook -> cell -> why it is not run


def inspect(course: Path, assignment: str) -> list[Submission]:
    """Read and check every submission of the assignment (see recsys_ref.grading.tamper)."""
    from recsys_ref.grading.tamper import inspect_submission

    released = _release_notebooks(course, assignment)
    submissions = []
    for folder in sorted(p for p in (course / "submitted").glob(f"*/{assignment}") if p.is_dir()):
        sub = Submission(folder.parent.name, assignment)
        files = sorted(p.name for p in folder.glob("*.ipynb"))
        others = [name for name in files if name not in released]
        if others:
            sub.flags.append(f"wrong-file-name: {', '.join(others)} (expected {', '.join(released)}): not graded")
        for name, release_nb in released.items():
            if name not in files:
                sub.rejected = sub.rejected or (f"no {name} in the submission" + (f" (found {', '.join(others)}: wrongly named)" if others else ""))
                continue
            found = inspect_submission(folder / name, release_nb)
            sub.flags.extend(str(f) for f in found.flags)
            if found.notebook is None:
                sub.rejected = sub.rejected or f"{name}: {found.broken}"
            else:
                sub.notebooks[name] = found.notebook
                sub.skip[name] = dict(found.skip)
        submissions.append(sub)
    return submissions


def stage(course: Path, sub: Submission) -> None:
    """Write the copy nbgrader grades into .grading/submitted/<student>/<assignment>/."""
    from recsys_ref.grading.tamper import staged_notebook

    released = _release_notebooks(course, sub.assignment)
    target = course / STAGING / "submitted" / sub.student / sub.assignment
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    source = course / "submitted" / sub.student / sub.assignment
    if (source / "timestamp.txt").is_file():
        shutil.copy2(source / "timestamp.txt", target / "timestamp.txt")
    for name, nb in sub.notebooks.items():
        staged = staged_notebook(nb, released[name], sub.skip.get(name, {}))
        (target / name).write_text(json.dumps(staged, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _autograded(course: Path, sub: Submission) -> bool:
    folder = course / "autograded" / sub.student / sub.assignment
    return all((folder / name).is_file() for name in sub.notebooks)


def _last_cell(log_dir: Path, sub: Submission) -> str | None:
    """The hash of the last cell this submission's latest kernel started (from the guard's logs, one per kernel)."""
    last, marker = None, os.sep + os.path.join(sub.student, sub.assignment)
    for path in sorted(log_dir.glob("*.jsonl"), key=lambda p: p.stat().st_mtime):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if record.get("event") == "cell" and str(record.get("cwd", "")).endswith(marker):
                last = record.get("cell")
    return last


def restored_names(log_dir: Path, sub: Submission) -> list[str]:
    """What the guard restored after this submission's cells (monkeypatching at run time)."""
    names, marker = [], os.sep + os.path.join(sub.student, sub.assignment)
    for path in sorted(log_dir.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if record.get("event") == "restored" and str(record.get("cwd", "")).endswith(marker):
                names.extend(record.get("names", []))
    return list(dict.fromkeys(names))


def _autograde(course: Path, assignment: str, env_extra: dict, *extra: str) -> int:
    args = ["autograde", assignment, "--force", f"--CourseDirectory.submitted_directory={STAGING}/submitted",
            f"--Execute.kernel_name={KERNEL_NAME}", *extra]
    return nbgrader(course, *args, check=False, env_extra=env_extra).returncode


def _forget(course: Path, sub: Submission) -> None:
    """No stale grades or feedback for a submission that scores 0 without running; the student stays in the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    for folder in ("autograded", "feedback"):
        shutil.rmtree(course / folder / sub.student / sub.assignment, ignore_errors=True)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        gradebook.update_or_create_student(sub.student)
        try:
            gradebook.remove_submission(sub.assignment, sub.student)
        except MissingEntry:
            pass


def grade(course: Path, assignments: list[str]) -> tuple[int, list[Submission]]:
    """Check, autograde (recovering from dead kernels), write feedback and export.

    Returns the number of nbgrader steps that reported errors nobody recovered
    from, and every submission with its flags.
    """
    from recsys_ref.grading.guard import source_hash
    from recsys_ref.grading.tamper import solution_cell_before

    limits = load_limits(course)
    staging = course / STAGING
    shutil.rmtree(staging, ignore_errors=True)
    log_dir = staging / "logs"
    log_dir.mkdir(parents=True)
    env_extra = {"JUPYTER_PATH": str(write_kernel_spec(staging, limits)), "RECSYS_GRADING_LOG": str(log_dir)}
    failures, everyone = 0, []
    for name in assignments:
        released = _release_notebooks(course, name)
        submissions = inspect(course, name)
        everyone.extend(submissions)
        to_run = [s for s in submissions if not s.rejected]
        for sub in to_run:
            stage(course, sub)
        for sub in submissions:
            if sub.rejected:
                _forget(course, sub)
        if to_run:
            _autograde(course, name, env_extra)
        for sub in to_run:
            for attempt in range(int(limits["max_regrades"])):
                if _autograded(course, sub):
                    break
                cell = _last_cell(log_dir, sub)
                skipped = None
                for nb_name, nb in sub.notebooks.items():
                    if cell:
                        instructor = course / "solutions" / name / nb_name
                        references = [released[nb_name]] + ([json.loads(instructor.read_text(encoding="utf-8"))]
                                                            if instructor.is_file() else [])
                        skipped = solution_cell_before(nb, references, cell, source_hash)
                    if skipped and skipped not in sub.skip[nb_name]:
                        sub.skip[nb_name][skipped] = "stopped the grading kernel (it crashed, was killed or ran out of time)"
                        break
                    skipped = None
                if not skipped:
                    break
                sub.flags.append(f"stopped-kernel ({skipped}): the kernel died while this cell (or a test of it) ran, so the notebook was graded again without this cell")
                stage(course, sub)
                _autograde(course, name, env_extra, f"--CourseDirectory.student_id={sub.student}")
            if not _autograded(course, sub):
                sub.rejected = "the notebook could not be graded: its kernel kept dying or nbgrader failed on it (see the log)"
                sub.flags.append("stopped-kernel: " + sub.rejected)
                _forget(course, sub)
        for sub in to_run:
            if not sub.rejected:
                sub.flags.extend(f"monkeypatch (run time): replaced {n}, restored before the next cell"
                                 for n in restored_names(log_dir, sub))
        if any(not s.rejected for s in submissions):
            failures += nbgrader(course, "generate_feedback", name, "--force", check=False).returncode != 0
    nbgrader(course, "export", "--log-level=WARN")
    return failures, everyone


def summarise(course: Path, assignments: list[str], submissions: list[Submission] | None = None) -> None:
    """Print the per-student, per-task summary and write grading_report.csv (with flags)."""
    from recsys_ref.grading.report import TaskScore, collect_scores, format_summary, write_report

    submissions = submissions or []
    flags = {(s.student, s.assignment): "; ".join(dict.fromkeys(s.flags)) for s in submissions}
    rows = [r.with_flags(flags.get((r.student, r.assignment), "")) for r in collect_scores(course, assignments)]
    for sub in submissions:
        if sub.rejected:
            for nb_name, release_nb in _release_notebooks(course, sub.assignment).items():
                for task, points in _graded_cells(release_nb):
                    rows.append(TaskScore(sub.student, sub.assignment, Path(nb_name).stem, task, 0.0, points,
                                          f"not graded: {sub.rejected}", flags.get((sub.student, sub.assignment), "")))
    rows.sort(key=lambda r: (r.assignment, r.student))
    print()
    print(format_summary(rows))
    write_report(rows, course / "grading_report.csv")
    flagged = [s for s in submissions if s.flags]
    if flagged:
        print("Flags (also in grading_report.csv):")
        for sub in flagged:
            print(f"  {sub.student} {sub.assignment}: {'; '.join(dict.fromkeys(sub.flags))}")
    print("Grades: grades.csv (per assignment), grading_report.csv (per task, with messages and flags);")
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
    failures, submissions = grade(course, to_grade)
    summarise(course, to_grade, submissions)
    if failures:
        print(f"{failures} nbgrader step(s) reported errors: see the log above.", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
