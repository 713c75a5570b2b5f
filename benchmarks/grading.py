"""How fast ``make grade`` grades a class: serially, with JOBS=2, and on a local Dask cluster.

Generates a class in a temporary copy of the course: N students x the
assignments (``mf`` and ``deep`` by default), a mix of correct notebooks,
notebooks with a mistake, notebooks whose kernel crashes (``os._exit``),
notebooks that stall a cell (cut by the per-cell time limit, set to 10 s
here) and files that are not notebooks. Grades the class three times, each
from a clean slate, through ``python -m grader`` (what ``make grade`` runs):
one process; ``--jobs 2``; and a Dask cluster of a scheduler and two worker
processes that this script starts (``distributed.LocalCluster``). Prints one
table (markdown): notebooks per minute, seconds per notebook, of which
starting the kernel and running the notebook, and the rest (the grader's own
work per notebook: staging, probes, nbgrader, scoring, feedback, merging),
and the speedups, all measured in this one run; then the time 200 students x
2 assignments would take, extrapolated from the JOBS=2 rate.

Usage: python benchmarks/grading.py [--students N] [--assignments mf deep]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The repository first: tests/grader (the tests of the grader package) would otherwise be found as a namespace
# package named grader by the Dask workers, which inherit this path.
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from notebook_cases import Case, write_case  # noqa: E402

MISTAKES = {
    "mf": ("task3-calc-loss", "    return squared_error.sum() / exist.sum()", "    return squared_error.mean()"),
    "deep": ("recommender-net", "x = torch.sigmoid(self.fc(x))", "x = self.fc(x)"),
}
CRASH = {"mf": ("task4-estimate", "    return user_factors.T @ movies_factors",
                "    import os\n    os._exit(1)"),
         "deep": ("recommender-net", "        x = self.drop(x)\n", "        import os\n        os._exit(1)\n")}
STALL = {"mf": ("task5-to-rating-range", "    smallest, largest = estimated.min(), estimated.max()",
                "    import time\n    time.sleep(3600)\n    smallest, largest = estimated.min(), estimated.max()"),
         "deep": ("recommender-net", "        x = self.drop(x)\n", "        import time\n        time.sleep(3600)\n        x = self.drop(x)\n")}


def make_class(course: Path, students: int, assignments: list[str]) -> dict[str, int]:
    """Write the class into ``course/submitted``; returns how many notebooks of each kind."""
    kinds = {"correct": 0, "mistake": 0, "crash": 0, "stall": 0, "not a notebook": 0}
    for s in range(students):
        for assignment in assignments:
            name = f"student{s:03d}"
            kind = ("correct", "correct", "mistake", "correct", "crash", "mistake", "stall", "correct",
                    "not a notebook", "correct")[s % 10]
            kinds[kind] += 1
            edits = {"mistake": (MISTAKES[assignment],), "crash": (CRASH[assignment],),
                     "stall": (STALL[assignment],)}.get(kind, ())
            wrap = (lambda nb: b"this is not a notebook") if kind == "not a notebook" else None
            write_case(Case(name, assignment, kind, edits=edits, wrap=wrap, in_process=False), course / "submitted")
    return kinds


def fresh_course(root: Path, students: int, assignments: list[str]) -> tuple[Path, dict[str, int]]:
    course = root / "course"
    shutil.rmtree(course, ignore_errors=True)
    course.mkdir(parents=True)
    shutil.copy2(REPO / "nbgrader_config.py", course)
    with open(course / "nbgrader_config.py", "a", encoding="utf-8") as handle:
        handle.write("\nc.Execute.timeout = 10  # the benchmark's stalling notebooks are cut after 10 s\n")
    for folder in ("solutions", "exercises"):
        shutil.copytree(REPO / folder, course / folder)
    return course, make_class(course, students, assignments)


def grade(course: Path, *args: str) -> float:
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")}
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "grader", "--course-dir", str(course), "--no-progress", *args],
                            capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"grading failed ({' '.join(args)}):\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return seconds


def job_times(course: Path) -> tuple[list[float], list[float]]:
    """Per graded notebook: (seconds in the worker, seconds starting the kernel and running the notebook)."""
    total, execute = [], []
    for log in (course / ".grading" / "logs").glob("*/*.log"):
        match = re.search(r"\[grader\] \w+ in ([\d.]+) s, of which ([\d.]+) s", log.read_text(encoding="utf-8"))
        if match:
            total.append(float(match.group(1)))
            execute.append(float(match.group(2)))
    return total, execute


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=10)
    parser.add_argument("--assignments", nargs="+", default=["mf", "deep"])
    args = parser.parse_args()
    from distributed import LocalCluster

    rows = []
    with tempfile.TemporaryDirectory(prefix="grading-benchmark-") as scratch:
        root = Path(scratch)
        for label, extra in (("serial", ()), ("JOBS=2", ("--jobs", "2")), ("Dask, 2 workers", None)):
            course, kinds = fresh_course(root, args.students, args.assignments)
            if extra is None:
                with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
                    seconds = grade(course, "--dask-scheduler", cluster.scheduler_address)
            else:
                seconds = grade(course, *extra)
            n = sum(kinds.values())
            total, execute = job_times(course)
            mean_execute = sum(execute) / len(execute) if execute else 0.0
            mean_job = sum(total) / len(total) if total else 0.0
            rows.append((label, n, seconds, mean_job, mean_execute))
    serial = rows[0][2]
    print(f"Grading benchmark: {args.students} students x {', '.join(args.assignments)} = {rows[0][1]} notebooks "
          f"({', '.join(f'{v} {k}' for k, v in kinds.items())}); per-cell time limit 10 s.")
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.")
    print()
    print("| run | notebooks/min | wall s | s per notebook in a worker | of which kernel + cells | "
          "rest per notebook | whole-run s per notebook beyond execution | speedup vs serial |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, n, seconds, mean_job, mean_execute in rows:
        workers = 1 if label == "serial" else 2
        beyond = seconds * workers / n - mean_execute
        print(f"| {label} | {60 * n / seconds:.1f} | {seconds:.0f} | {mean_job:.2f} | {mean_execute:.2f} | "
              f"{mean_job - mean_execute:.2f} | {beyond:.2f} | {serial / seconds:.2f}x |")
    jobs2 = rows[1]
    estimate = 400 / (jobs2[1] / jobs2[2]) / 60
    print()
    print(f"Dask / JOBS=2 throughput: {rows[1][2] / rows[2][2]:.2f}. 200 students x 2 assignments at the JOBS=2 "
          f"rate: {estimate:.0f} min (the class here has {kinds['stall']} stalling notebooks in {jobs2[1]}).")


if __name__ == "__main__":
    main()
