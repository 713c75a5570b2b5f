"""Regenerate the student notebooks, exercises/, from the instructor notebooks, solutions/ (`make release`).

For each assignment (each folder of solutions/ with a notebook), runs

    nbgrader generate_assignment <assignment> --force

which writes exercises/<assignment>/<notebook>.ipynb with the solutions
replaced by `YOUR CODE HERE` stubs and the hidden tests removed, and records
the graded cells and their checksums in the gradebook (gradebook.db), which
`make grade` needs. The output is deterministic: commit exercises/ with
solutions/. tests/test_exercises.py fails when they drift apart.

Usage: python scripts/release.py [--course-dir DIR] [ASSIGNMENT ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from nbgrader_course import REPO_ROOT, assignment_names, nbgrader


def release(course: Path, assignments: list[str] | None = None) -> list[str]:
    """Run generate_assignment for each assignment; returns the assignments released."""
    names = assignments or assignment_names(course)
    for name in names:
        nbgrader(course, "generate_assignment", name, "--force", "--log-level=WARN")
        print(f"released {name}: exercises/{name}/")
    return names


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", help="assignments to release (default: all in solutions/)")
    parser.add_argument("--course-dir", type=Path, default=REPO_ROOT, help="the course folder (default: the repository)")
    args = parser.parse_args()
    release(args.course_dir.resolve(), args.assignments or None)


if __name__ == "__main__":
    main()
