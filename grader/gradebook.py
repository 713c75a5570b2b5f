"""The course's gradebook: nbgrader's, kept in step with what was graded in the scratch courses.

Each submission is graded in a scratch course of its own
(:mod:`grader.autograde`); the coordinator merges the results here, one
writer, one transaction per submission: the student, the submission (with
its timestamp) and one score per graded task. A submission that was handed
in but could not be graded is stored with every task at 0, so that it
counts as handed in; a student with no submission for an assignment has none
in the gradebook, so exports leave that cell empty.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping
from datetime import datetime

from grader.course import Course, course_config, generate_assignment


def known_assignments(course: Course) -> set[str]:
    """The assignments the gradebook knows (with their notebooks)."""
    if not course.gradebook.exists():
        return set()
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course.gradebook}") as gradebook:
        return {a.name for a in gradebook.assignments if a.notebooks}


def record_assignment(course: Course, assignment: str) -> None:
    """Record (or update) ``assignment`` in the course's gradebook from ``solutions/``, without touching ``exercises/``.

    nbgrader's ``generate_assignment`` writes the gradebook entry; its release goes to a temporary folder.

    Raises:
        RuntimeError: With nbgrader's log, when it fails.
    """
    with tempfile.TemporaryDirectory(prefix="release-") as scratch:
        config = course_config(course.root)
        config.CourseDirectory.release_directory = scratch
        generate_assignment(config, assignment, f"record {assignment} in the gradebook")


def parse_timestamp(text: str | None) -> datetime | None:
    """A timestamp as nbgrader stores it (``timestamp.txt``), or None."""
    if not text:
        return None
    from nbgrader.utils import parse_utc

    try:
        return parse_utc(text.strip())
    except (ValueError, OverflowError):
        return None


def store_submission(course: Course, student: str, assignment: str, scores: Mapping[str, float],
                     timestamp: str | None = None) -> None:
    """Create or update one submission with a score per graded task (grade id -> points).

    Tasks not in ``scores`` get 0.
    """
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course.gradebook}", "recsys") as gradebook:
        gradebook.update_or_create_student(student)
        when = parse_timestamp(timestamp)
        submission = gradebook.update_or_create_submission(assignment, student, **({"timestamp": when} if when else {}))
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score = float(scores.get(grade.name, 0.0))
                grade.manual_score = None
                grade.needs_manual_grade = False
        gradebook.db.commit()


def forget_submissions(course: Course, assignment: str, students: Iterable[str]) -> list[str]:
    """Remove these students' submissions of ``assignment`` (they are no longer in ``submitted/``); the students stay.

    Returns:
        The students whose submission was removed.
    """
    from nbgrader.api import Gradebook, MissingEntry

    removed = []
    if not course.gradebook.exists():
        return removed
    with Gradebook(f"sqlite:///{course.gradebook}", "recsys") as gradebook:
        for student in students:
            try:
                gradebook.remove_submission(assignment, student)
                removed.append(student)
            except MissingEntry:
                pass
    return removed


def submitted_students(course: Course, assignment: str) -> set[str]:
    """The students with a submission of ``assignment`` in the gradebook."""
    from nbgrader.api import Gradebook

    if not course.gradebook.exists():
        return set()
    with Gradebook(f"sqlite:///{course.gradebook}", "recsys") as gradebook:
        try:
            return {s.student.id for s in gradebook.find_assignment(assignment).submissions}
        except Exception:  # noqa: BLE001 - an unknown assignment has no submissions
            return set()


def write_files(course: Course, student: str, assignment: str, autograded: Mapping[str, str],
                feedback: Mapping[str, str]) -> None:
    """Write a submission's autograded notebooks and feedback pages into the course (replacing old ones)."""
    import shutil

    for folder, files, suffix in ((course.autograded, autograded, ""), (course.feedback, feedback, ".html")):
        target = folder / student / assignment
        shutil.rmtree(target, ignore_errors=True)
        if files:
            target.mkdir(parents=True)
            for name, text in files.items():
                (target / f"{name}{suffix}").write_text(text, encoding="utf-8")


def remove_files(course: Course, student: str, assignment: str) -> None:
    """Remove a submission's autograded notebooks and feedback (it is no longer in ``submitted/``)."""
    import shutil

    for folder in (course.autograded, course.feedback):
        shutil.rmtree(folder / student / assignment, ignore_errors=True)
