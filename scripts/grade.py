"""Autograde the course's submissions (`make grade`): see grader.pipeline and `python -m grader --help`."""

from grader.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
