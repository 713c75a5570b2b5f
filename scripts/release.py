"""Regenerate the student notebooks, exercises/, from solutions/ (`make release`): see grader.releases."""

from grader.releases import main

if __name__ == "__main__":
    raise SystemExit(main())
