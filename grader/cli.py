"""``python -m grader`` (what ``make grade`` runs): grade a course's submissions.

Usage::

    python -m grader [--course-dir DIR] [--zip FILE] [--assignment NAME ...] [--jobs N]
                     [--dask-scheduler ADDRESS] [--unsandboxed] [--collect-only] [--no-progress]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader.course import REPO_ROOT
from grader.pipeline import GradingStopped, Options, grade_course


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and grade; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m grader", description="Autograde the course's submissions: "
                                     "feedback, grades, the grading report and the learning platforms' import files.")
    parser.add_argument("--course-dir", type=Path, default=REPO_ROOT, help="the course folder (default: this repository)")
    parser.add_argument("--zip", type=Path, help="a learning platform's download of submissions (Canvas, Blackboard, Moodle)")
    parser.add_argument("--assignment", action="append", help="only this assignment (repeatable; default: all)")
    parser.add_argument("--jobs", type=int, default=1, help="grade this many notebooks at once on this machine")
    parser.add_argument("--dask-scheduler", help="grade on the Dask cluster at this address, e.g. tcp://host:8786")
    parser.add_argument("--unsandboxed", action="store_true",
                        help="run kernels without bubblewrap (recorded in the report; only where it cannot run)")
    parser.add_argument("--collect-only", action="store_true", help="import the zip into submitted/ and stop")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.zip is not None and not args.zip.is_file():
        parser.error(f"{args.zip}: no such file")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    options = Options(zip_path=args.zip.resolve() if args.zip else None, assignments=args.assignment,
                      workers=args.jobs, scheduler=args.dask_scheduler, sandbox=not args.unsandboxed,
                      progress=not args.no_progress and sys.stderr.isatty(), collect_only=args.collect_only)
    try:
        return grade_course(args.course_dir, options)
    except GradingStopped as stop:
        print(stop.code, file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
