"""The grader's checks: for each assignment, its graded tasks in notebook order.

Each :class:`~grader.checks._common.Task` names the test cell it scores, the
probes the grader writes for it and the check that compares the student's
records with the reference. Checks run in the grader's own process and never
run student code (see :mod:`recsys_ref.grading.exchange`).
"""

from __future__ import annotations

from grader.checks._common import BOOK_SECTIONS, Context, Failure, Task, seed_for


def tasks(assignment: str) -> tuple[Task, ...]:
    """The graded tasks of ``assignment`` in notebook order.

    Raises:
        KeyError: For an assignment the grader has no checks for.
    """
    if assignment == "mf":
        from grader.checks.mf import TASKS
    elif assignment == "deep":
        from grader.checks.deep import TASKS
    elif assignment == "rank":
        from grader.checks.rank import TASKS
    else:
        raise KeyError(f"no checks for the assignment {assignment!r} (grader/checks/ has mf, deep and rank)")
    return TASKS


__all__ = ["BOOK_SECTIONS", "Context", "Failure", "Task", "seed_for", "tasks"]
