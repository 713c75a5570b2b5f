"""Grade one submission in a scratch course of its own: the unit of work a worker does.

:func:`grade_submission` takes a :class:`Job` (plain data: the staged
notebook, the assignment's gradebook template, the settings) and returns a
:class:`Result` (plain data: scores, messages, the autograded notebook, the
feedback page, flags, the log). It touches nothing outside its own temporary
folder, so it runs the same in this process, in a process pool
(``make grade JOBS=N``) or on a Dask worker on another machine; the
coordinator writes the results into the course (:mod:`grader.gradebook`).

Steps, in the scratch course (nbgrader called in-process, no start-up per command):

1. write the probes for every task (:mod:`grader.checks`), fresh for this
   student and reproducible (seeded by assignment, student and task);
2. ``autograde`` (nbgrader's converter) with a kernel spec that starts each
   kernel in the sandbox (:mod:`grader.sandbox`); a notebook whose kernel
   died is graded again without the cell that was running (up to
   ``max_regrades`` times);
3. score every task from the records the hidden tests wrote
   (:mod:`grader.scoring`), store the scores in the scratch gradebook and the
   messages in the autograded notebook;
4. ``generate_feedback`` (nbgrader's converter, with :mod:`grader.feedback`'s
   preprocessor).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Integer, Unicode
from traitlets.config import Config

from grader import notebooks as nbs
from grader.sandbox import EXCHANGE_MOUNT, SandboxSpec, remove_cgroup
from recsys_ref.grading.exchange import SEAL

KERNEL_NAME = "recsys-grading"
SOURCE_DIR, SUBMITTED_DIR, AUTOGRADED_DIR, FEEDBACK_DIR = "solutions", "submitted", "autograded", "feedback"
RUN_FOLDER_ENV = "RECSYS_GRADING_RUN"
STOPPED_CELL = "raise RuntimeError({!r})"
#: The grader's copy of what the kernel's recorders sealed (grader.sandbox copies the seal pipe into it).
SEAL_LOG = "seals.log"


@dataclass
class Job:
    """One submission to grade (plain data, so it can travel to another process or machine).

    Attributes:
        student, assignment: Who and what.
        notebooks: Notebook file name -> the staged notebook (JSON text) nbgrader grades.
        gradebook: The assignment's gradebook template (bytes of a ``gradebook.db`` that knows the assignment).
        timestamp: The submission time as nbgrader writes it in ``timestamp.txt``, if known.
        reference_cells: Solution cells (grade ids) whose code calls the reference implementation: their
            tasks score 0.
        settings: JSON-able settings (see :func:`job_settings`).
    """

    student: str
    assignment: str
    notebooks: dict[str, str]
    gradebook: bytes
    timestamp: str | None = None
    reference_cells: dict[str, str] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class TaskResult:
    """The grade of one task (one graded cell)."""

    grade_id: str
    title: str
    score: float
    max_score: float
    message: str = ""
    book: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Result:
    """What grading one submission produced (plain data)."""

    student: str
    assignment: str
    status: str  # "graded" or "failed"
    tasks: list[TaskResult] = field(default_factory=list)
    autograded: dict[str, str] = field(default_factory=dict)  # notebook -> JSON text
    feedback: dict[str, str] = field(default_factory=dict)  # notebook stem -> HTML
    flags: list[str] = field(default_factory=list)
    error: str = ""
    log: str = ""
    seconds: float = 0.0
    execute_seconds: float = 0.0  # starting the kernel and running the notebook's cells (what `nbconvert --execute` does)
    worker: str = ""


class TrackedExecute(Execute):
    """nbgrader's Execute preprocessor, keeping the grader's own account of the run, outside the sandbox.

    Before each cell it notes the cell's index (to find the cell that killed a
    kernel). Around each graded (test) cell it takes the records out of the
    exchange folder the kernel can write to: files already there before the
    test cell runs, or written by any other cell, were not written by the
    grader's recorders (a forged record), so they are set aside and reported;
    the records the test cell wrote are moved where no later cell can change
    them. After every cell it moves the kernel guard's log out the same way.
    """

    run_folder = Unicode("", help="The scratch course's folder for the grader's account of the run.").tag(config=True)

    def _folder(self) -> Path | None:
        folder = self.run_folder or os.environ.get(RUN_FOLDER_ENV, "")
        return Path(folder) if folder else None

    def preprocess(self, nb, resources=None, km=None):
        started = time.perf_counter()
        try:
            return super().preprocess(nb, resources, km)
        finally:
            folder = self._folder()
            if folder is not None:
                timing = folder / "execute.seconds"
                previous = float(timing.read_text()) if timing.is_file() else 0.0
                timing.write_text(str(previous + time.perf_counter() - started), encoding="utf-8")

    def preprocess_cell(self, cell, resources, index):
        folder = self._folder()
        graded = nbs.is_grade(cell)
        if folder is not None:
            (folder / "progress.txt").write_text(str(index), encoding="utf-8")
            _set_aside(folder, f"before the test cell {nbs.grade_id(cell)} ran" if graded else
                       f"by cell {index + 1}, which is not a test cell")
        try:
            return super().preprocess_cell(cell, resources, index)
        finally:
            if folder is not None:
                if graded:
                    _collect(folder)
                _take_events(folder)


class LimitOutputSize(NbGraderPreprocessor):
    """Cut any output of a cell beyond ``max_chars`` characters (nbgrader's LimitOutput counts lines only).

    A notebook that prints megabytes would otherwise make an autograded notebook and a feedback page of
    hundreds of megabytes.
    """

    max_chars = Integer(100_000, help="Characters an output may keep; the rest is cut with a note.").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and len(output.get("text", "")) > self.max_chars:
                cut = len(output["text"]) - self.max_chars
                output["text"] = output["text"][: self.max_chars] + f"\n... ({cut:,} more characters cut while grading)\n"
            for mime, value in list(output.get("data", {}).items()):
                if isinstance(value, str) and len(value) > self.max_chars:
                    output["data"][mime] = value[: self.max_chars] + "\n... (cut while grading)"
        return cell, resources


def _set_aside(folder: Path, when: str) -> None:
    """Records in the kernel's exchange folder that no test cell wrote: moved aside and reported as forged."""
    from recsys_ref.grading.exchange import EVENTS, RECORDS

    records = folder / "exchange" / RECORDS
    for path in sorted(records.glob("*")):
        if path.name == EVENTS:
            continue
        stray = folder / "stray"
        stray.mkdir(exist_ok=True)
        path.replace(stray / path.name)
        with open(folder / "stray.txt", "a", encoding="utf-8") as handle:
            handle.write(f"{path.name}\t{when}\n")


def _collect(folder: Path) -> None:
    """Move what a test cell recorded out of the kernel's reach (the first record of a key wins)."""
    from recsys_ref.grading.exchange import EVENTS, RECORDS

    collected = folder / "collected"
    collected.mkdir(exist_ok=True)
    for path in sorted((folder / "exchange" / RECORDS).glob("*")):
        if path.name == EVENTS:
            continue
        if (collected / path.name).exists():
            _set_aside(folder, "a second time")
            continue
        with contextlib.suppress(FileNotFoundError):  # listed, then removed by the kernel: nothing to collect
            path.replace(collected / path.name)


def _check_seals(folder: Path) -> list[str]:
    """Set aside every collected record the seal log does not vouch for (see recsys_ref.grading.exchange).

    Returns their keys: their tasks are scored as having a damaged record (no points, and the message says so).
    """
    from recsys_ref.grading.exchange import check_seals

    collected = folder / "collected"
    untrusted = check_seals(collected, folder / SEAL_LOG)
    for key, why in untrusted.items():
        stray = folder / "stray"
        stray.mkdir(exist_ok=True)
        for path in collected.glob(f"{key}.*"):
            path.replace(stray / f"{path.name}.unsealed")
        with open(folder / "stray.txt", "a", encoding="utf-8") as handle:
            handle.write(f"{key}.json\tbut {why}\n")
    return list(untrusted)


def _take_events(folder: Path) -> None:
    """Move the kernel guard's log out of the kernel's reach, a cell at a time."""
    from recsys_ref.grading.exchange import EVENTS, RECORDS

    log = folder / "exchange" / RECORDS / EVENTS
    if log.is_file():
        taken = log.with_name(EVENTS + ".taken")
        log.replace(taken)
        with open(folder / EVENTS, "a", encoding="utf-8") as handle:
            handle.write(taken.read_text(encoding="utf-8", errors="replace"))
        taken.unlink()


def job_settings(settings, course_paths: list[str]) -> dict[str, Any]:
    """The JSON-able part of :class:`grader.settings.Settings` a worker needs."""
    return {
        "limits": settings.kernel_limits(),
        "max_regrades": int(settings.limits.max_regrades),
        "cell_seconds": settings.cell_seconds,
        "sandbox": bool(settings.sandbox.enabled),
        "visible_modules": list(settings.sandbox.visible_modules),
        "readable_paths": list(settings.sandbox.readable_paths),
        "book_url": settings.feedback.book_url,
        "hidden_paths": course_paths,
    }


# --------------------------------------------------------------------------- the scratch course


def _nbgrader_config(root: Path, settings: dict[str, Any]) -> Config:
    from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, GetGrades, IgnorePattern,
                                        LimitOutput, SaveAutoGrades)

    from grader.feedback import StudentFeedback

    c = Config()
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.course_id = "recsys"
    c.CourseDirectory.source_directory = SOURCE_DIR
    c.CourseDirectory.submitted_directory = SUBMITTED_DIR
    c.CourseDirectory.autograded_directory = AUTOGRADED_DIR
    c.CourseDirectory.feedback_directory = FEEDBACK_DIR
    c.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    c.Execute.timeout = int(settings.get("cell_seconds") or 120)
    c.Execute.kernel_name = KERNEL_NAME
    c.Execute.interrupt_on_timeout = True
    c.Execute.extra_arguments = []
    c.TrackedExecute.run_folder = str(root)
    c.KernelManager.transport = "ipc"
    c.KernelManager.ip = str(root / "ipc" / "kernel")
    c.KernelManager.connection_file = str(root / "ipc" / "connection.json")
    c.OverwriteCells.add_missing_cells = True
    c.Autograde.autograde_preprocessors = [TrackedExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
                                           LimitOutputSize,
                                           SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
    c.GenerateFeedback.preprocessors = [GetGrades, StudentFeedback, CSSHTMLHeaderPreprocessor]
    c.NbGraderAPI.log_level = "INFO"
    return c


def _sandbox_spec(root: Path, job: Job, settings: dict[str, Any]) -> SandboxSpec:
    """Who sees what in this submission's sandbox (see :mod:`grader.sandbox`)."""
    import recsys_ref
    from recsys_ref.data import default_data_home
    from recsys_ref.grading.exchange import EXCHANGE_ENV

    package = Path(recsys_ref.__file__).resolve().parent
    home = Path.home()
    # The package itself is hidden and only its allowed parts come back (wherever it is installed: a checkout,
    # an editable install, site-packages); so are the grader and the original notebook's code, and the
    # repository, the course, the home folders and the shared temporary folders.
    import grader
    import original_notebook

    hidden = [str(p) for p in {package, Path(grader.__file__).resolve().parent,
                               Path(original_notebook.__file__).resolve().parent, package.parent, home,
                               Path("/home"), Path("/root")}] + ["/tmp", "/run", "/var/tmp", "/dev/shm"]
    hidden += [p for p in settings.get("hidden_paths", []) if p]
    readable = [sys.prefix, sys.base_prefix, str(Path(sys.executable).resolve().parent.parent),
                str(default_data_home())] + list(settings.get("readable_paths", []))
    readable += [str(package / part) for part in settings.get("visible_modules", [])]
    readable = [p for p in readable if Path(p).exists()]
    work = root / AUTOGRADED_DIR / job.student / job.assignment
    work.mkdir(parents=True, exist_ok=True)
    sandboxed = bool(settings.get("sandbox", True))
    exchange = root / "exchange"
    env = {
        "HOME": "/tmp/home", "IPYTHONDIR": "/tmp/ipython", "MPLCONFIGDIR": "/tmp/matplotlib", "MPLBACKEND": "Agg",
        "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1",
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "NBGRADER_EXECUTION": "autograde",
        "RECSYS_DATA_HOME": str(default_data_home()),
        EXCHANGE_ENV: EXCHANGE_MOUNT if sandboxed else str(exchange),
    }
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
        readable += [p for p in os.environ["PYTHONPATH"].split(os.pathsep) if p and Path(p).exists()
                     and not Path(p).resolve() == package.parent]
    return SandboxSpec(
        cwd=str(work), writable=[str(root / "ipc")], readable=readable, hidden=hidden, workspace=str(work),
        mounts={str(exchange / "records"): f"{EXCHANGE_MOUNT}/records"},
        readonly_mounts={str(exchange / "probes"): f"{EXCHANGE_MOUNT}/probes"},
        env=env, limits=dict(settings.get("limits", {})), enabled=sandboxed, cgroup=root.name,
        log=str(root / "kernel.log"), seal_info=str(exchange / "probes" / SEAL), seal_log=str(root / SEAL_LOG),
    )


def _write_kernel_spec(root: Path, spec_path: Path) -> Path:
    kernels = root / "jupyter" / "kernels" / KERNEL_NAME
    kernels.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "grader.sandbox", str(spec_path), "--",
            sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
            "--IPKernelApp.extensions=recsys_ref.grading.guard", "--HistoryManager.hist_file=:memory:"]
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": argv, "display_name": "Python 3 (grading sandbox)", "language": "python",
        "interrupt_mode": "message", "metadata": {"debugger": False},
    }, indent=1), encoding="utf-8")
    return root / "jupyter"


def _run_api(config: Config, method: str, job: Job, log: io.StringIO) -> dict[str, Any]:
    """Call NbGraderAPI.<method>(assignment, student) in this process; its log goes to ``log``."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(config=config)
    api = NbGraderAPI(coursedir=coursedir, config=config)
    handler = logging.StreamHandler(log)
    handler.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
    api.log.addHandler(handler)
    api.log.propagate = False
    try:
        result = getattr(api, method)(job.assignment, job.student, force=True)
    finally:
        api.log.removeHandler(handler)
    log.write(result.get("log", ""))
    if result.get("error"):
        log.write(result["error"])
    return result


# --------------------------------------------------------------------------- one submission


def _stage(root: Path, job: Job, skipped: dict[str, dict[int, str]]) -> None:
    folder = root / SUBMITTED_DIR / job.student / job.assignment
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name, text in job.notebooks.items():
        nb = nbs.parse_notebook(text.encode("utf-8"), name)[0]
        for index, reason in skipped.get(name, {}).items():
            nb.cells[index].source = STOPPED_CELL.format(f"Not run while grading: {reason}. See the grading report.")
            nb.cells[index].outputs = []
        nbs.write_notebook(nb, folder / name)
    if job.timestamp:
        (folder / "timestamp.txt").write_text(job.timestamp, encoding="utf-8")


def _crash_cell(root: Path, job: Job, name: str, progress: Path, skipped: dict[int, str]) -> int | None:
    """The index (in the staged notebook) of the student cell to skip after the kernel died.

    ``progress.txt`` holds the index of the cell that was running. nbgrader runs the staged notebook cell for
    cell (its preprocessors change cells' sources and outputs, never their number or order) and deletes the
    autograded notebook of a run that failed, so the index is read on the staged notebook itself.
    """
    if not progress.is_file():
        return None
    try:
        index = int(progress.read_text(encoding="utf-8"))
    except ValueError:
        return None
    staged = nbs.parse_notebook(job.notebooks[name].encode("utf-8"), name)[0]
    if not 0 <= index < len(staged.cells):
        return None
    # Walk back from the cell that ran (a test cell, say) to the nearest cell with student code (a solution or
    # an added cell) that is still run.
    for i in range(index, -1, -1):
        cell = staged.cells[i]
        if cell.cell_type != "code" or i in skipped or (nbs.grading_metadata(cell) and not nbs.is_solution(cell)):
            continue
        return i
    return None


def _run_flags(root: Path) -> list[str]:
    """What the grader's account of the run shows: the guard's events, records no test cell wrote."""
    import json

    from recsys_ref.grading.exchange import EVENTS

    flags = []
    log = root / EVENTS
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines() if log.is_file() else []:
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(event, dict):
            continue
        if event.get("event") == "restored":
            flags += [f"monkeypatch (run time): replaced {name}, restored before the next cell"
                      for name in event.get("names", [])]
        elif event.get("event") == "threads":
            flags.append(f"thread (run time): a cell left thread(s) running ({', '.join(event.get('names', []))})")
    stray = root / "stray.txt"
    for line in stray.read_text(encoding="utf-8").splitlines() if stray.is_file() else []:
        name, _, when = line.partition("\t")
        flags.append(f"forged-record: {name} was written into the grader's records {when}: it was ignored")
    return list(dict.fromkeys(flags))


def grade_submission(job: Job) -> Result:
    """Grade one submission (see the module docstring); never raises for the student's sake."""
    started = time.perf_counter()
    result = Result(job.student, job.assignment, "failed", worker=f"{os.uname().nodename}:{os.getpid()}")
    log = io.StringIO()
    scratch_parent = os.environ.get("RECSYS_GRADING_SCRATCH") or None
    root = Path(tempfile.mkdtemp(prefix=f"grade-{uuid.uuid4().hex[:8]}-", dir=scratch_parent))
    try:
        _grade_in(root, job, result, log)
    except Exception as error:  # noqa: BLE001 - one submission must not stop the batch
        import traceback

        result.status = "failed"
        result.error = f"the grader failed on this submission ({type(error).__name__}: {error})"
        log.write(traceback.format_exc())
    finally:
        remove_cgroup(root.name)
        if not os.environ.get("RECSYS_GRADING_KEEP"):
            shutil.rmtree(root, ignore_errors=True)
    result.seconds = time.perf_counter() - started
    log.write(f"\n[grader] {result.status} in {result.seconds:.2f} s, of which {result.execute_seconds:.2f} s starting "
              f"the kernel and running the notebook; worker {result.worker}\n")
    result.log = log.getvalue()
    return result


def _grade_in(root: Path, job: Job, result: Result, log: io.StringIO) -> None:
    import torch

    from grader import scoring
    from grader.course import put_environment_on_path, quiet_libraries

    quiet_libraries()
    put_environment_on_path()
    settings = job.settings
    torch.set_num_threads(1)
    (root / "gradebook.db").write_bytes(job.gradebook)
    (root / SOURCE_DIR / job.assignment).mkdir(parents=True)
    (root / "ipc").mkdir()
    for sub in ("probes", "records"):
        (root / "exchange" / sub).mkdir(parents=True)
    sources = {name: nbs.parse_notebook(text.encode("utf-8"), name)[0] for name, text in job.notebooks.items()}
    probes = scoring.write_probes(job.assignment, job.student, sources, root / "exchange")
    spec_path = root / "sandbox.json"
    _sandbox_spec(root, job, settings).write(spec_path)
    jupyter_path = _write_kernel_spec(root, spec_path)
    progress = root / "progress.txt"
    config = _nbgrader_config(root, settings)
    skipped: dict[str, dict[int, str]] = {}
    max_regrades = int(settings.get("max_regrades", 3))
    with mock.patch.dict(os.environ, JUPYTER_PATH=str(jupyter_path), JUPYTER_RUNTIME_DIR=str(root / "ipc"),
                      **{RUN_FOLDER_ENV: str(root)}):
        for attempt in range(max_regrades + 1):
            _stage(root, job, skipped)
            for folder in (root / "exchange" / "records", root / "collected", root / "stray"):
                shutil.rmtree(folder, ignore_errors=True)
            (root / "exchange" / "records").mkdir()
            for leftover in (progress, root / "stray.txt", root / "events.jsonl", root / SEAL_LOG):
                leftover.unlink(missing_ok=True)
            outcome = _run_api(config, "autograde", job, log)
            timing = root / "execute.seconds"
            if timing.is_file():
                result.execute_seconds += float(timing.read_text())
                timing.unlink()
            missing = [name for name in job.notebooks
                       if not (root / AUTOGRADED_DIR / job.student / job.assignment / name).is_file()
                       or not outcome.get("success")]
            if not missing:
                break
            name = missing[0]
            if not progress.is_file():
                result.error = ("the grader failed on this submission: nbgrader could not process the notebook "
                                "before running it (see the log)")
                return
            index = _crash_cell(root, job, name, progress, skipped.get(name, {}))
            if index is None or attempt == max_regrades:
                result.error = ("the notebook could not be graded: its kernel kept dying or nbgrader failed on it "
                                "(see the log)")
                result.flags.append("stopped-kernel: " + result.error)
                return
            label = nbs.grade_id(nbs.parse_notebook(job.notebooks[name].encode(), name)[0].cells[index]) or f"cell {index + 1}"
            skipped.setdefault(name, {})[index] = "it stopped the grading kernel (it crashed, was killed or ran out of time)"
            result.flags.append(f"stopped-kernel ({label}): the kernel died while this cell (or a test of it) ran, so "
                                "the notebook was graded again without this cell")
        kernel_log = root / "kernel.log"
        if kernel_log.is_file():
            log.write("--- the kernel's own output ---\n" + kernel_log.read_text(encoding="utf-8", errors="replace"))
        untrusted = _check_seals(root)
        records = {**scoring.read_records(root / "collected"), **dict.fromkeys(untrusted)}
        folder = root / AUTOGRADED_DIR / job.student / job.assignment
        errors: dict[str, str] = {}
        test_errors: dict[str, str] = {}
        for name in job.notebooks:
            executed = nbs.read_notebook(folder / name)[0]
            errors.update(scoring.cell_errors(executed))
            test_errors.update(scoring.cell_errors(executed, test_cells=True))
        result.tasks = scoring.score(job.assignment, records, probes, job.reference_cells, settings, errors=errors,
                                     test_errors=test_errors)
        scoring.store(root, job, result.tasks)
        result.flags += _run_flags(root)
        _run_api(config, "generate_feedback", job, log)
    folder = root / AUTOGRADED_DIR / job.student / job.assignment
    result.autograded = {name: (folder / name).read_text(encoding="utf-8") for name in job.notebooks}
    feedback = root / FEEDBACK_DIR / job.student / job.assignment
    result.feedback = {p.stem: p.read_text(encoding="utf-8") for p in sorted(feedback.glob("*.html"))}
    result.status = "graded"
