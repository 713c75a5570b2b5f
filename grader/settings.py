"""The grader's settings, declared once with traitlets and read from the course's ``nbgrader_config.py``.

nbgrader's own configuration is built on traitlets; the grader's settings
live in the same file under their own class names::

    c.GradingLimits.memory_mb = 4096
    c.GradingLimits.notebook_seconds = 600
    c.GradingFeedback.book_url = "https://example.edu/recsys-book/"
    c.LatePolicy.deadlines = {"mf": "2026-12-14 23:59"}
    c.LatePolicy.penalty_per_day = 0.1

Each class below gives every setting's default, type and meaning; a typo in
``nbgrader_config.py`` (a setting that does not exist) is reported instead of
silently ignored. The per-cell time limit is nbgrader's own
``c.Execute.timeout``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from traitlets import Bool, Dict, Float, Int, List, Unicode
from traitlets.config import Config, Configurable
from traitlets.config.loader import PyFileConfigLoader

CONFIG_FILE = "nbgrader_config.py"


class GradingLimits(Configurable):
    """Limits of each submission's kernel while it is graded (0 turns a limit off)."""

    memory_mb = Int(4096, help="Address space of the kernel (RLIMIT_AS), in MB; torch needs about 1.5 GB of it.").tag(config=True)
    file_mb = Int(100, help="Largest file the kernel may write (RLIMIT_FSIZE), in MB.").tag(config=True)
    processes = Int(256, help="Processes and threads the sandbox may hold at once (a pids cgroup; "
                              "RLIMIT_NPROC where cgroups are unavailable, which root ignores).").tag(config=True)
    cpu_seconds = Int(0, help="Total CPU seconds of the kernel (RLIMIT_CPU).").tag(config=True)
    notebook_seconds = Int(600, help="Wall time of a whole notebook; then its sandbox is killed.").tag(config=True)
    workspace_mb = Int(256, help="Size of the kernel's writable working folder and of its /tmp (in memory), "
                                 "in MB: what a notebook can write in all.").tag(config=True)
    max_regrades = Int(3, help="A notebook whose kernel died is graded again without the cell that was "
                               "running, at most this many times.").tag(config=True)


class GradingSandbox(Configurable):
    """The OS sandbox (bubblewrap) every grading kernel runs in."""

    enabled = Bool(True, help="Run every kernel under bubblewrap. Turning it off (or `make grade "
                              "UNSANDBOXED=1`) is recorded in the report.").tag(config=True)
    readable_paths = List(Unicode(), [], help="Extra host paths the kernel may read (read-only).").tag(config=True)
    visible_modules = List(Unicode(), ["__init__.py", "data", "grading"],
                           help="The parts of the recsys_ref package a grading kernel sees. The reference "
                                "implementations of the graded tasks are left out on purpose.").tag(config=True)


class GradingFeedback(Configurable):
    """What the students' feedback shows."""

    book_url = Unicode("", help="Where the course book is published (e.g. https://example.edu/recsys/). "
                                "When set, each failure message links to the book section that explains "
                                "the mistake; otherwise it names the section.").tag(config=True)


class LatePolicy(Configurable):
    """Penalties for submissions after the deadline, applied from the collected timestamps."""

    deadlines = Dict(Unicode(), {}, help='Assignment -> deadline, "YYYY-MM-DD HH:MM" (local time of the '
                                          "timestamps) or ISO 8601 with a time zone.").tag(config=True)
    grace_minutes = Float(0.0, help="Minutes after the deadline that still count as on time.").tag(config=True)
    penalty_per_day = Float(0.0, help="Fraction of the score lost per started day late (0.1 = 10 %).").tag(config=True)
    zero_after_days = Float(0.0, help="After this many days late the score is 0 (0: never).").tag(config=True)


@dataclass(frozen=True)
class Settings:
    """Everything the grader reads from ``nbgrader_config.py``."""

    limits: GradingLimits
    sandbox: GradingSandbox
    feedback: GradingFeedback
    late: LatePolicy
    cell_seconds: int
    config: Config

    def kernel_limits(self) -> dict[str, int]:
        """The limits the kernel launcher applies (JSON-able)."""
        return {name: int(getattr(self.limits, name))
                for name in ("memory_mb", "file_mb", "processes", "cpu_seconds", "notebook_seconds", "workspace_mb")}


KNOWN = {cls.__name__: cls for cls in (GradingLimits, GradingSandbox, GradingFeedback, LatePolicy)}


def load_settings(course: str | Path) -> Settings:
    """Read the grader's settings from ``<course>/nbgrader_config.py`` (defaults when it does not exist).

    Raises:
        ValueError: When the file sets a grader setting that does not exist.
    """
    course = Path(course)
    config = Config()
    if (course / CONFIG_FILE).is_file():
        config = PyFileConfigLoader(CONFIG_FILE, path=str(course)).load_config()
    for section, cls in KNOWN.items():
        given = dict(config.get(section, {}))
        unknown = sorted(set(given) - set(cls.class_trait_names(config=True)))
        if unknown:
            raise ValueError(f"{course / CONFIG_FILE}: c.{section}.{unknown[0]} is not a setting "
                             f"(known: {', '.join(sorted(cls.class_trait_names(config=True)))})")
    timeout: Any = config.get("Execute", {}).get("timeout", 120)
    return Settings(GradingLimits(config=config), GradingSandbox(config=config), GradingFeedback(config=config),
                    LatePolicy(config=config), int(timeout or 0), config)
