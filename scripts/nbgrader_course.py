"""Shared helpers of the instructor scripts (release.py, grade.py): run nbgrader in a course folder.

The course folder is the repository root (or, in the tests, a temporary copy
of it): it holds nbgrader_config.py, solutions/ and exercises/.
"""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def environment() -> dict[str, str]:
    """The environment for nbgrader and its kernels.

    nbgrader shells out to ``alembic``, so the virtual environment's ``bin``
    goes first on ``PATH``. Each notebook is executed in its own kernel, one
    after the other; one math thread per kernel keeps the run times
    predictable when other work shares the CPU (override by setting
    ``OMP_NUM_THREADS`` yourself).
    """
    env = os.environ.copy()
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("MKL_NUM_THREADS", "1")
    env.setdefault("PYTHONWARNINGS", "ignore")
    return env


def nbgrader(course: Path, *args: str, check: bool = True, quiet: bool = False,
             env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``nbgrader <args>`` in the course folder with :func:`environment` (plus ``env_extra``)."""
    command = [str(Path(sys.executable).parent / "nbgrader"), *args]
    print("$ nbgrader " + " ".join(args), flush=True)
    result = subprocess.run(
        command, cwd=course, env={**environment(), **(env_extra or {})}, text=True,
        stdout=subprocess.PIPE if quiet else None, stderr=subprocess.STDOUT if quiet else None,
    )
    if check and result.returncode != 0:
        if quiet and result.stdout:
            print(result.stdout)
        raise SystemExit(f"nbgrader {' '.join(args)} failed with exit code {result.returncode}.")
    return result


def assignment_names(course: Path) -> list[str]:
    """The assignments: the folders of ``solutions/`` that hold a notebook."""
    source = course / "solutions"
    return sorted(p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def tree_differences(left: Path, right: Path) -> list[str]:
    """Relative paths that differ between two folders (missing on one side or different bytes)."""
    differences = []
    left_files = {p.relative_to(left) for p in left.rglob("*") if p.is_file()} if left.exists() else set()
    right_files = {p.relative_to(right) for p in right.rglob("*") if p.is_file()} if right.exists() else set()
    for rel in sorted(left_files ^ right_files):
        differences.append(f"{rel} (only in {'the first' if rel in left_files else 'the second'})")
    for rel in sorted(left_files & right_files):
        if not filecmp.cmp(left / rel, right / rel, shallow=False):
            differences.append(f"{rel} (contents differ)")
    return differences
