"""The course folder as nbgrader lays it out, and the assignments' releases.

The repository root is the course folder (``nbgrader_config.py`` there)::

    solutions/<assignment>/<notebook>.ipynb   the instructor's notebooks (nbgrader's "source")
    exercises/<assignment>/<notebook>.ipynb   what students receive (nbgrader's "release"), generated
    submitted/<student>/<assignment>/         students' notebooks (nbgrader's "submitted")
    autograded/, feedback/                    nbgrader's output
    gradebook.db                              nbgrader's gradebook
    .grading/                                 the grader's logs and reports of the last run

:func:`release_template` generates an assignment from ``solutions/`` into a
temporary course (nbgrader's ``generate_assignment``, in-process) and
returns its gradebook, which every scratch course of a grading run starts
from, together with the release it generates (to check ``exercises/``
against it: students are graded against what they received).
"""

from __future__ import annotations

import filecmp
import io
import logging
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from traitlets.config import Config

REPO_ROOT = Path(__file__).resolve().parent.parent
STAGING = ".grading"


@dataclass(frozen=True)
class Course:
    """Paths of a course folder."""

    root: Path

    @property
    def solutions(self) -> Path:
        return self.root / "solutions"

    @property
    def exercises(self) -> Path:
        return self.root / "exercises"

    @property
    def submitted(self) -> Path:
        return self.root / "submitted"

    @property
    def autograded(self) -> Path:
        return self.root / "autograded"

    @property
    def feedback(self) -> Path:
        return self.root / "feedback"

    @property
    def gradebook(self) -> Path:
        return self.root / "gradebook.db"

    @property
    def staging(self) -> Path:
        return self.root / STAGING

    def assignments(self) -> list[str]:
        """The assignments: the folders of ``solutions/`` that hold a notebook."""
        if not self.solutions.is_dir():
            return []
        return sorted(p.name for p in self.solutions.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))

    def release_notebooks(self, assignment: str) -> dict[str, Path]:
        """Notebook file name -> path, of the released assignment (``exercises/<assignment>/``)."""
        return {p.name: p for p in sorted((self.exercises / assignment).glob("*.ipynb"))}


def tree_differences(left: Path, right: Path) -> list[str]:
    """Relative paths that differ between two folders (missing on one side or different bytes)."""
    files = {}
    for side, root in (("first", left), ("second", right)):
        files[side] = {p.relative_to(root) for p in root.rglob("*") if p.is_file()} if root.exists() else set()
    differences = [f"{rel} (only in the {'first' if rel in files['first'] else 'second'})"
                   for rel in sorted(files["first"] ^ files["second"])]
    differences += [f"{rel} (contents differ)" for rel in sorted(files["first"] & files["second"])
                    if not filecmp.cmp(left / rel, right / rel, shallow=False)]
    return differences


def put_environment_on_path() -> None:
    """nbgrader shells out to ``alembic`` (creating a gradebook): the environment's ``bin`` must be on ``PATH``."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def quiet_libraries() -> None:
    """Keep nbgrader's database warnings (SQLAlchemy autoflush notices) off the instructor's terminal."""
    import warnings

    try:
        from sqlalchemy.exc import SAWarning
    except ImportError:  # pragma: no cover
        return
    warnings.filterwarnings("ignore", category=SAWarning)


def course_config(root: Path) -> Config:
    """nbgrader's configuration for a course folder laid out as this course is."""
    c = Config()
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.course_id = "recsys"
    c.CourseDirectory.source_directory = "solutions"
    c.CourseDirectory.release_directory = "exercises"
    c.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*", "answer_ratings.csv"]
    return c


@dataclass(frozen=True)
class ReleaseTemplate:
    """What ``generate_assignment`` makes of ``solutions/<assignment>/``: the gradebook and the release."""

    assignment: str
    gradebook: bytes
    release: dict[str, bytes]  # notebook name -> bytes of the generated student notebook
    differences: tuple[str, ...]  # from the committed exercises/<assignment>/


def generate_assignment(config: Config, assignment: str, what: str) -> None:
    """Run nbgrader's ``generate_assignment`` in this process for the course ``config`` describes.

    nbgrader's log is captured (not printed) and given in the error.

    Raises:
        RuntimeError: ``"nbgrader could not <what>"`` with nbgrader's log, when it fails.
    """
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    put_environment_on_path()
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    api.log.addHandler(handler)
    api.log.propagate = False
    try:
        result = api.generate_assignment(assignment, force=True)
    finally:
        api.log.removeHandler(handler)
    if not result.get("success"):
        raise RuntimeError(f"nbgrader could not {what}:\n{buffer.getvalue()}{result.get('log', '')}"
                           f"{result.get('error', '')}")


def release_template(course: Course, assignment: str) -> ReleaseTemplate:
    """Generate ``assignment`` from the course's ``solutions/`` in a temporary course (in-process).

    Raises:
        RuntimeError: When nbgrader cannot generate it (with nbgrader's log).
    """
    with tempfile.TemporaryDirectory(prefix="release-") as scratch:
        root = Path(scratch)
        (root / "solutions").symlink_to(course.solutions.resolve())
        generate_assignment(course_config(root), assignment, f"generate {assignment} from solutions/{assignment}")
        generated = root / "exercises" / assignment
        release = {p.name: p.read_bytes() for p in sorted(generated.glob("*.ipynb"))}
        differences = tuple(tree_differences(generated, course.exercises / assignment))
        return ReleaseTemplate(assignment, (root / "gradebook.db").read_bytes(), release, differences)
