"""Adversarial submissions through the real grading path (`scripts/grade.py`, what `make grade` runs).

Each case is the released notebook, completed with the solutions, with one
attack planted: tampering with the tests, beating the checks, breaking the
run, or a broken file (issue 5). Two temporary courses are graded:

* ``small``: two control students and the broken files, graded twice in the
  same folder (re-running `make grade` must give identical grades and keep
  every student in the gradebook);
* ``full``: the same controls and every case, in one batch; the controls'
  grades must equal those of the small course (no file changes another
  student's grade) and each case must get its expected score and flag.

The test configuration makes the run cheap: a 30 s cell limit, a 100 s
notebook limit, a 3 GB address-space cap and a 50 MB file-size cap.

Set RECSYS_ADVERSARIAL_TABLE=<path> to write the table of cases (markdown).
"""

from __future__ import annotations

import csv
import html
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from mutants import completed_submission, grade_id, read_notebook, write_notebook

pytestmark = [pytest.mark.nbgrader, pytest.mark.movielens, pytest.mark.slow]

REPO = Path(__file__).resolve().parent.parent
TEST_CONFIG = """
# tests/test_adversarial.py: cheap limits
c.Execute.timeout = 30
c.GradingLimits.memory_mb = 3000
c.GradingLimits.file_mb = 50
c.GradingLimits.notebook_seconds = 100
c.GradingLimits.max_regrades = 2
"""
MF = {"task1-factors-test": 2, "task2-optimizer-test": 1, "task3-calc-loss-test": 3,
      "task4-estimate-test": 1, "training-test": 1, "task5-to-rating-range-test": 2}
DEEP = {"task1-init-test": 5, "task2-forward-test": 5}
GOOD_RANGE = (
    "def to_rating_range(estimated, low=1.0, high=5.0):\n"
    "    smallest, largest = estimated.min(), estimated.max()\n"
    "    if largest == smallest:\n"
    "        return torch.full_like(estimated, (low + high) / 2)\n"
    "    return low + (high - low) * (estimated - smallest) / (largest - smallest)\n"
)
WRONG_RANGE = "def to_rating_range(estimated, low=1.0, high=5.0):\n    return estimated.clamp(low, high)\n"


@dataclass(frozen=True)
class Case:
    """One adversarial submission: its expected scores (cell -> score, others full) and flag kinds."""

    name: str
    group: str
    attack: str
    build: str  # a key of BUILDERS
    lost: dict
    flags: tuple[str, ...] = ()
    assignment: str = "mf"

    def expected(self) -> dict:
        scores = dict(MF if self.assignment == "mf" else DEEP)
        scores.update(self.lost)
        return scores


ZERO_MF = {cell: 0 for cell in MF}

CASES = (
    # ------------------------------------------------------------ tampering with tests
    Case("edit-test-cell", "tampering", "Task 3 test replaced by `pass`, calc_loss sums", "edit_test", {"task3-calc-loss-test": 0}, ("edited-locked-cell",)),
    Case("delete-test-cell", "tampering", "Task 5 test cell deleted", "delete_test", {}, ("deleted-locked-cell",)),
    Case("add-cells", "tampering", "an added code cell and markdown cell", "add_cells", {}, ("added-cell",)),
    Case("cell-type-changed", "tampering", "Task 4 test cell turned into markdown", "cell_type", {}, ("changed-cell-type",)),
    Case("duplicate-ids", "tampering", "Task 1 cell duplicated (same ids), the copy wrong", "duplicate", {}, ("duplicate-cell-id",)),
    Case("points-edited", "tampering", "Task 5 test's points set to 100 in the metadata", "points", {}, ("changed-grading-metadata",)),
    # ------------------------------------------------------------ beating checks
    Case("patch-check", "beating checks", "recsys_ref.grading.check_to_rating_range replaced, clipping", "patch_check", {"task5-to-rating-range-test": 0}, ("monkeypatch",)),
    Case("patch-allclose-hidden", "beating checks", "torch.allclose replaced through vars() (no static trace), clipping", "patch_allclose", {"task5-to-rating-range-test": 0}, ("monkeypatch (run time)",)),
    Case("patch-testing", "beating checks", "torch.testing / numpy.testing asserts replaced, clipping", "patch_testing", {"task5-to-rating-range-test": 0}, ("monkeypatch",)),
    Case("patch-assertionerror", "beating checks", "builtins.AssertionError replaced, loss sums", "patch_assert", {"task3-calc-loss-test": 0}, ("monkeypatch",)),
    Case("patch-ipython", "beating checks", "IPython custom exception handler swallows errors, elementwise estimate", "patch_ipython", {"task4-estimate-test": 0}, ("monkeypatch",)),
    Case("always-equal", "beating checks", "to_rating_range returns an object equal to everything", "always_equal", {"task5-to-rating-range-test": 0}),
    Case("hard-coded", "beating checks", "to_rating_range returns the visible test's expected output", "hard_coded", {"task5-to-rating-range-test": 0}),
    Case("reference-mf", "beating checks", "estimate imported from recsys_ref.mf", "reference_mf", {"task4-estimate-test": 0}, ("reference-used",)),
    Case("reference-deep", "beating checks", "RecommenderNet imported from recsys_ref.nn", "reference_deep", {"task1-init-test": 0, "task2-forward-test": 0}, ("reference-used",), "deep"),
    # ------------------------------------------------------------ breaking the run
    Case("sys-exit", "breaking the run", "sys.exit() in the Task 5 cell after the function", "sys_exit", {}, ("stops-kernel",)),
    Case("os-exit", "breaking the run", "os._exit(1) inside calc_loss (kills the kernel in the test)", "os_exit", {"task3-calc-loss-test": 0}, ("stops-kernel", "stopped-kernel")),
    Case("kill-kernel", "breaking the run", "SIGKILL to the kernel in the Task 5 cell", "kill", {"task5-to-rating-range-test": 0}, ("stops-kernel", "stopped-kernel")),
    Case("infinite-loop", "breaking the run", "`while True: pass` in the Task 4 cell", "loop", {"task4-estimate-test": 0}),
    Case("stall-ignoring-interrupts", "breaking the run", "SIGINT ignored, then an endless sleep (notebook limit)", "stall", {"task5-to-rating-range-test": 0}, ("stops-kernel", "stopped-kernel")),
    Case("huge-allocation", "breaking the run", "a 50 GB bytearray in the Task 5 cell", "alloc", {"task5-to-rating-range-test": 0}),
    Case("fill-disk", "breaking the run", "a 200 MB file written in the Task 5 cell", "fill_disk", {"task5-to-rating-range-test": 0}),
    Case("spawn-processes", "breaking the run", "subprocess.Popen(sleep) and os.fork() children left running", "spawn", {}, ("file-or-process-access",)),
    Case("read-outside", "breaking the run", "reads the instructor's solutions/ through ../", "read_outside", {}, ("file-or-process-access",)),
    Case("write-outside", "breaking the run", "writes a file beside the gradebook through an absolute path", "write_outside", {}, ("file-or-process-access",)),
    # ------------------------------------------------------------ broken files
    Case("invalid-json", "broken files", "not JSON", "invalid_json", ZERO_MF, ("broken-file",)),
    Case("empty-file", "broken files", "an empty file", "empty", ZERO_MF, ("broken-file",)),
    Case("other-assignment", "broken files", "deep.ipynb saved as mf.ipynb", "other_assignment", ZERO_MF, ("broken-file",)),
    Case("wrong-name", "broken files", "the notebook handed in as mf_final.ipynb", "wrong_name", ZERO_MF, ("wrong-file-name",)),
    Case("nbformat-3", "broken files", "saved by an old nbformat (v3)", "nbformat3", ZERO_MF, ("broken-file",)),
)
CONTROLS = {"ctl-solution": ("mf", {}), "ctl-loss-sum": ("mf", {"task3-calc-loss-test": 0})}
BROKEN = [c for c in CASES if c.group == "broken files"]


# --------------------------------------------------------------------------- building submissions


class Builder:
    def __init__(self, course: Path) -> None:
        self.course = course
        self.release = {a: read_notebook(course / "exercises" / a / f"{a}.ipynb") for a in ("mf", "deep")}
        self.solution = {a: read_notebook(course / "solutions" / a / f"{a}.ipynb") for a in ("mf", "deep")}

    def done(self, assignment="mf", **replacements) -> dict:
        code = {k.replace("_", "-"): v for k, v in replacements.items()}
        return completed_submission(self.release[assignment], self.solution[assignment], code)

    def put(self, student: str, nb, assignment="mf", name=None) -> None:
        path = self.course / "submitted" / student / assignment / (name or f"{assignment}.ipynb")
        if isinstance(nb, dict):
            write_notebook(nb, path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(nb, encoding="utf-8")


def _cell(nb: dict, gid: str) -> dict:
    return next(c for c in nb["cells"] if grade_id(c) == gid)


SUM_LOSS = "def calc_loss(true_r, est_r, exist):\n    return (exist * (true_r - est_r) ** 2).sum()\n"


def build(b: Builder, case: Case) -> None:
    s = case.name
    k = case.build
    if k == "edit_test":
        nb = b.done(task3_calc_loss=SUM_LOSS)
        _cell(nb, "task3-calc-loss-test")["source"] = "pass  # no tests here"
    elif k == "delete_test":
        nb = b.done()
        nb["cells"] = [c for c in nb["cells"] if grade_id(c) != "task5-to-rating-range-test"]
    elif k == "add_cells":
        nb = b.done()
        nb["cells"].insert(8, {"cell_type": "code", "id": "scratch", "metadata": {}, "execution_count": None,
                               "outputs": [], "source": "print('my scratch work')"})
        nb["cells"].insert(8, {"cell_type": "markdown", "id": "note", "metadata": {}, "source": "My notes"})
    elif k == "cell_type":
        nb = b.done()
        cell = _cell(nb, "task4-estimate-test")
        cell["cell_type"] = "markdown"
        cell.pop("outputs", None), cell.pop("execution_count", None)
    elif k == "duplicate":
        nb = b.done()
        import copy

        index = next(i for i, c in enumerate(nb["cells"]) if grade_id(c) == "task1-factors")
        twin = copy.deepcopy(nb["cells"][index])
        twin["source"] = "user_factors = 'not a tensor'"
        nb["cells"].insert(index + 1, twin)
    elif k == "points":
        nb = b.done()
        _cell(nb, "task5-to-rating-range-test")["metadata"]["nbgrader"]["points"] = 100
    elif k == "patch_check":
        nb = b.done(task5_to_rating_range="import recsys_ref.grading\n"
                    "recsys_ref.grading.check_to_rating_range = lambda f: None\n" + WRONG_RANGE)
    elif k == "patch_allclose":
        nb = b.done(task5_to_rating_range="import torch as T\nname = 'all' + 'close'\n"
                    "vars(T)[name] = lambda *args, **kwargs: True\n" + WRONG_RANGE)
    elif k == "patch_testing":
        nb = b.done(task5_to_rating_range="import numpy as np\n"
                    "torch.testing.assert_close = lambda *a, **k: None\n"
                    "np.testing.assert_allclose = lambda *a, **k: None\n" + WRONG_RANGE)
    elif k == "patch_assert":
        nb = b.done(task3_calc_loss="import builtins\n"
                    "builtins.AssertionError = type('Quiet', (Exception,), {})\n" + SUM_LOSS)
    elif k == "patch_ipython":
        nb = b.done(task4_estimate="get_ipython().set_custom_exc((AssertionError,), lambda *args, **kwargs: None)\n"
                    "def estimate(user_factors, movies_factors):\n    return user_factors * movies_factors\n")
    elif k == "always_equal":
        nb = b.done(task5_to_rating_range=(
            "class Yes(torch.Tensor):\n"
            "    def __eq__(self, other):\n        return True\n"
            "    def __bool__(self):\n        return True\n"
            "def to_rating_range(estimated, low=1.0, high=5.0):\n"
            "    return torch.zeros(estimated.shape).as_subclass(Yes)\n"))
    elif k == "hard_coded":
        nb = b.done(task5_to_rating_range=(
            "def to_rating_range(estimated, low=1.0, high=5.0):\n"
            "    if estimated.shape == (2, 2):\n        return torch.tensor([[1.0, 2.0], [3.0, 5.0]])\n"
            "    return torch.full_like(estimated, 3.0)\n"))
    elif k == "reference_mf":
        nb = b.done(task4_estimate="from recsys_ref.mf import estimate\n")
    elif k == "reference_deep":
        nb = b.done("deep", recommender_net="from recsys_ref.nn import RecommenderNet\n")
        b.put(s, nb, "deep")
        return
    elif k == "sys_exit":
        nb = b.done(task5_to_rating_range=GOOD_RANGE + "import sys\nsys.exit()\n")
    elif k == "os_exit":
        nb = b.done(task3_calc_loss="import os\ndef calc_loss(true_r, est_r, exist):\n    os._exit(1)\n")
    elif k == "kill":
        nb = b.done(task5_to_rating_range=GOOD_RANGE + "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    elif k == "loop":
        nb = b.done(task4_estimate="while True:\n    pass\n")
    elif k == "stall":
        nb = b.done(task5_to_rating_range="import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                    "while True:\n    time.sleep(1)\n")
    elif k == "alloc":
        nb = b.done(task5_to_rating_range="hoard = bytearray(50 * 1024 ** 3)\n" + GOOD_RANGE)
    elif k == "fill_disk":
        nb = b.done(task5_to_rating_range=(
            "with open('filler.bin', 'wb') as handle:\n"
            "    for _ in range(200):\n        handle.write(b'x' * 1024 * 1024)\n" + GOOD_RANGE))
    elif k == "spawn":
        nb = b.done(task5_to_rating_range=GOOD_RANGE + (
            "import os, subprocess, time\n"
            "subprocess.Popen(['sleep', '317'])\n"
            "for _ in range(3):\n"
            "    if os.fork() == 0:\n        time.sleep(317)\n        os._exit(0)\n"))
    elif k == "read_outside":
        nb = b.done(task5_to_rating_range=GOOD_RANGE + "stolen = open('../../../solutions/mf/mf.ipynb').read()\n")
    elif k == "write_outside":
        target = b.course / "intruder.txt"
        nb = b.done(task5_to_rating_range=GOOD_RANGE + f"open({str(target)!r}, 'w').write('was here')\n")
    elif k == "invalid_json":
        nb = '{"cells": [ this is not json'
    elif k == "empty":
        nb = ""
    elif k == "other_assignment":
        nb = b.done("deep")
    elif k == "wrong_name":
        b.put(s, b.done(), name="mf_final.ipynb")
        return
    elif k == "nbformat3":
        nb = {"nbformat": 3, "nbformat_minor": 0, "metadata": {"name": "mf"},
              "worksheets": [{"cells": [{"cell_type": "code", "input": "x = 1", "language": "python", "outputs": []}]}]}
    else:
        raise KeyError(k)
    b.put(s, nb, case.assignment)


def build_controls(b: Builder) -> None:
    b.put("ctl-solution", b.done())
    b.put("ctl-loss-sum", b.done(task3_calc_loss=SUM_LOSS))


# --------------------------------------------------------------------------- grading


@dataclass
class Run:
    course: Path
    scores: dict  # student -> task -> score
    flags: dict  # student -> flags text
    output: str
    returncode: int
    seconds: float
    gradebook_students: set


def new_course(root: Path) -> Path:
    course = root
    course.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "nbgrader_config.py", course)
    with open(course / "nbgrader_config.py", "a", encoding="utf-8") as handle:
        handle.write(TEST_CONFIG)
    shutil.copytree(REPO / "solutions", course / "solutions")
    shutil.copytree(REPO / "exercises", course / "exercises")
    return course


def grade(course: Path) -> Run:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "grade.py"), "--course-dir", str(course)],
                            capture_output=True, text=True, timeout=3600)
    seconds = time.perf_counter() - started
    scores, flags = {}, {}
    with open(course / "grading_report.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            scores.setdefault(row["student"], {})[row["task"]] = float(row["score"])
            flags[row["student"]] = row["flags"]
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        students = {s.id for s in gradebook.students}
    return Run(course, scores, flags, result.stdout + result.stderr, result.returncode, seconds, students)


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Run, Run]:
    course = new_course(tmp_path_factory.mktemp("small") / "course")
    b = Builder(course)
    build_controls(b)
    for case in BROKEN:
        build(b, case)
    first = grade(course)
    second = grade(course)
    return first, second


@pytest.fixture(scope="module")
def full(tmp_path_factory) -> Run:
    course = new_course(tmp_path_factory.mktemp("full") / "course")
    b = Builder(course)
    build_controls(b)
    for case in CASES:
        build(b, case)
    run = grade(course)
    _write_table(run)
    return run


def _total(scores: dict) -> str:
    return f"{sum(scores.values()):g}"


def _write_table(run: Run) -> None:
    lines = [f"Adversarial suite: {len(CASES)} cases + {len(CONTROLS)} controls, one batch, graded in {run.seconds:.0f} s", "",
             "| case | group | attack | expected | observed score | observed flags |", "|---|---|---|---|---|---|"]
    for case in CASES:
        observed = run.scores.get(case.name, {})
        kinds = sorted({f.split(" (")[0].split(":")[0] for f in run.flags.get(case.name, "").split("; ") if f})
        lines.append(f"| {case.name} | {case.group} | {case.attack} | {_total(case.expected())}/10"
                     f"{' + ' + ', '.join(case.flags) if case.flags else ''} | "
                     f"{_total(observed) + '/10' if observed else 'not graded'} | {', '.join(kinds)} |")
    text = "\n".join(lines) + "\n"
    (run.course / "adversarial_table.md").write_text(text)
    if os.environ.get("RECSYS_ADVERSARIAL_TABLE"):
        Path(os.environ["RECSYS_ADVERSARIAL_TABLE"]).write_text(text + "\n```\n" + run.output[-8000:] + "\n```\n")
    print(text)


# --------------------------------------------------------------------------- tests


def test_enough_cases():
    assert len(CASES) >= 25
    assert {c.group for c in CASES} == {"tampering", "beating checks", "breaking the run", "broken files"}


def test_batch_completes(full):
    assert full.returncode == 0, full.output[-4000:]
    assert set(CONTROLS) | {c.name for c in CASES} <= set(full.scores)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case_score_and_flags(full, case):
    assert full.scores[case.name] == case.expected(), full.flags.get(case.name)
    for kind in case.flags:
        assert kind in full.flags[case.name], full.flags[case.name]


def test_controls_score_as_expected_and_unflagged(full):
    for student, (assignment, lost) in CONTROLS.items():
        expected = dict(MF)
        expected.update(lost)
        assert full.scores[student] == expected
        assert full.flags[student] == ""


def test_other_students_unchanged_by_the_adversarial_files(small, full):
    first, _ = small
    for student in CONTROLS:
        assert full.scores[student] == first.scores[student]


def test_regrading_is_idempotent_and_keeps_everyone(small):
    first, second = small
    assert first.returncode == 0 and second.returncode == 0, second.output[-3000:]
    assert first.scores == second.scores
    assert first.flags == second.flags
    assert set(CONTROLS) | {c.name for c in BROKEN} <= second.gradebook_students
    grades = (second.course / "grades.csv").read_text()
    for case in BROKEN:
        assert f",{case.name}," in grades


def test_broken_files_explain_why(full):
    for case in BROKEN:
        row = next(r for r in csv.DictReader(open(full.course / "grading_report.csv", encoding="utf-8"))
                   if r["student"] == case.name)
        assert row["message"].startswith("not graded: "), row


def test_left_over_processes_are_ended(full):
    left = subprocess.run(["pgrep", "-f", "sleep 317"], capture_output=True, text=True).stdout.split()
    assert not left, f"processes started by a submission are still running: {left}"


def test_students_files_are_not_modified(full):
    nb = json.loads((full.course / "submitted" / "patch-check" / "mf" / "mf.ipynb").read_text())
    assert "check_to_rating_range = lambda" in json.dumps(nb)


def test_feedback_never_shows_hidden_tests(full):
    hidden = ("BEGIN HIDDEN TESTS", "from recsys_ref.grading import check_", "check_calc_loss(calc_loss)",
              "Traceback (most recent call last)", "grading/mf_checks.py")
    pages = list((full.course / "feedback").rglob("*.html"))
    assert len(pages) >= 20
    for page in pages:
        text = html.unescape(page.read_text(encoding="utf-8"))
        for fragment in hidden:
            assert fragment not in text, f"{fragment!r} in {page}"
