"""Attacks on the grading engine: what a motivated student would try, and what each attempt must earn.

Every case is the released notebook completed with the instructor's answers,
with one attack planted. The rules the expectations follow:

* a submission gets only the points its own answers earn: an attack never adds
  points, and never costs the points of a task it did not touch (a correct
  cell is never replaced or zeroed for how its text looks);
* a task whose answer imports or calls the reference implementation scores 0
  and is flagged (``reference-used``);
* flags are for the instructor's review; the attempt itself fails inside the
  sandbox, and the autograded notebook shows how (:attr:`Attack.shows`: e.g.
  ``Read-only file system``, ``Network is unreachable``, ``BlockingIOError``).

The cases of :data:`CASES` are graded with every other case table in one batch
(``tests/pipeline/conftest.py``, the course's own limits). :data:`LIMITS_CASES`
need cheap limits (a short cell timeout and notebook wall time); they are
graded in a course of their own by ``tests/pipeline/test_attacks.py``.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell
from notebook_cases import Case, solution_code, submission

from grader import notebooks as nbs

MF = solution_code("mf")
DEEP = solution_code("deep")
FACTORS, OPTIMIZER, LOSS, ESTIMATE, RANGE = ("task1-factors", "task2-optimizer", "task3-calc-loss", "task4-estimate",
                                             "task5-to-rating-range")
T1, T3, T4, T5 = "task1-factors-test", "task3-calc-loss-test", "task4-estimate-test", "task5-to-rating-range-test"
ALL_MF_ZERO = {T1: 0, "task2-optimizer-test": 0, T3: 0, T4: 0, "training-test": 0, T5: 0}

SUM_LOSS = "def calc_loss(true_r, est_r, exist):\n    return (exist * (true_r - est_r) ** 2).sum()\n"
CLIP_RANGE = "def to_rating_range(estimated, low=1.0, high=5.0):\n    return estimated.clamp(low, high)\n"
ELEMENTWISE = "def estimate(user_factors, movies_factors):\n    return user_factors * movies_factors\n"
NON_LEAF = ("user_factors = torch.randn(n_factors, n_users, requires_grad=True) * 0.1  # not a leaf\n"
            "movies_factors = torch.randn(n_factors, n_movies, requires_grad=True) * 0.1\n")
STUB = "# YOUR CODE HERE\nraise NotImplementedError()\n"


@dataclass(frozen=True)
class Attack(Case):
    """A :class:`~notebook_cases.Case` with what the sandbox must show and how it is graded.

    Attributes:
        shows: Texts the autograded notebook must contain (the attempt failing inside the sandbox, or what it
            found: e.g. ``"Read-only file system"``).
        slow: Needs the cheap limits of ``test_attacks.py``'s own course (a cell timeout, the notebook wall time).
        group: tampering, beating the checks, reaching the reference, tampering with records, the sandbox,
            breaking the run, broken files.
    """

    shows: tuple[str, ...] = ()
    slow: bool = False
    group: str = ""


def answer(cell: str, before: str = "", after: str = "") -> dict[str, str]:
    """The instructor's answer of ``cell`` with code before and after it."""
    return {cell: f"{before}{MF[cell]}\n{after}"}


# --------------------------------------------------------------------------- notebook wrappers


def _cell(nb: nbformat.NotebookNode, gid: str) -> nbformat.NotebookNode:
    return next(c for c in nb.cells if nbs.grade_id(c) == gid)


def _index(nb: nbformat.NotebookNode, gid: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if nbs.grade_id(c) == gid)


def edit_test_cell(nb):
    _cell(nb, T3).source = "pass  # no tests here"
    return nb


def delete_test_cell(nb):
    nb.cells = [c for c in nb.cells if nbs.grade_id(c) != T5]
    return nb


def add_cells(nb):
    at = _index(nb, OPTIMIZER)
    nb.cells[at:at] = [new_markdown_cell("My notes"), new_code_cell("print('my scratch work')")]
    return nb


def test_cell_to_markdown(nb):
    at = _index(nb, T4)
    old = nb.cells[at]
    new = new_markdown_cell(old.source, metadata=copy.deepcopy(old.metadata))
    new["id"] = old["id"]
    nb.cells[at] = new
    return nb


def duplicate_answer_cell(nb):
    at = _index(nb, FACTORS)
    twin = copy.deepcopy(nb.cells[at])
    twin.source = "user_factors = 'not a tensor'"
    nb.cells.insert(at + 1, twin)
    return nb


def points_edited(nb):
    _cell(nb, T5).metadata["nbgrader"]["points"] = 100
    return nb


ERASE_GUARD_LOG = """import os
# Erase what the kernel's guard logged about this notebook (the run-time monkeypatching of Task 5).
log = os.path.join(os.environ["RECSYS_GRADING_EXCHANGE"], "records", "events.jsonl")
open(log, "w").close()
print("guard log erased:", os.path.getsize(log) == 0)
"""


def erase_guard_log(nb):
    nb.cells.append(new_code_cell(ERASE_GUARD_LOG))
    return nb


def deep_notebook(nb):
    return submission("deep")


def invalid_json(nb):
    return b'{"cells": [ this is not json'


def empty_file(nb):
    return b""


def nbformat3(nb):
    return json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {"name": "mf"}, "worksheets": [
        {"cells": [{"cell_type": "code", "input": "x = 1", "language": "python", "outputs": []}]}]}).encode()


# --------------------------------------------------------------------------- attack code

PATCH_RECORDER_IMPORT = """import recsys_ref.grading
recsys_ref.grading.record_to_rating_range = lambda function: None
"""
PATCH_ALLCLOSE_HIDDEN = """import torch as T
name = 'all' + 'close'
vars(T)[name] = lambda *args, **kwargs: True
"""
PATCH_TESTING = """import numpy as np
torch.testing.assert_close = lambda *a, **k: None
np.testing.assert_allclose = lambda *a, **k: None
"""
PATCH_ASSERTION = """import builtins
builtins.AssertionError = type('Quiet', (Exception,), {})
"""
PATCH_IPYTHON = "get_ipython().set_custom_exc((AssertionError,), lambda *args, **kwargs: None)\n"
ALWAYS_EQUAL_TENSOR = """class Yes(torch.Tensor):
    def __eq__(self, other):
        return True
    def __bool__(self):
        return True
def to_rating_range(estimated, low=1.0, high=5.0):
    return torch.zeros(estimated.shape).as_subclass(Yes)
"""
ALWAYS_EQUAL_OBJECT = """class Anything:
    '''Equal to everything, a number, a one-element tensor that requires grad.'''
    requires_grad = True
    shape = ()
    def __eq__(self, other):
        return True
    def __float__(self):
        return 2.0
    def item(self):
        return 2.0
    def numel(self):
        return 1
    def sum(self):
        return self
    def backward(self):
        pass
def calc_loss(true_r, est_r, exist):
    return Anything()
"""
HARD_CODED = """def to_rating_range(estimated, low=1.0, high=5.0):
    if estimated.shape == (2, 2):
        return torch.tensor([[1.0, 2.0], [3.0, 5.0]])
    return torch.full_like(estimated, (low + high) / 2)
"""
REFERENCE_GC = """import gc
def calc_loss(true_r, est_r, exist):
    '''The reference's loss, wherever the kernel holds it.'''
    for obj in gc.get_objects():
        module = getattr(obj, "__module__", "") or ""
        if callable(obj) and getattr(obj, "__name__", "") == "masked_mse" and module.startswith("recsys_ref"):
            return obj(true_r, est_r, exist)
    raise LookupError("no reference implementation among the kernel's objects")
"""
REFERENCE_GLOBALS = """def calc_loss(true_r, est_r, exist):
    '''The reference's loss, through a provided helper's globals.'''
    helpers = usable_factors.__globals__
    pieces = helpers["training_pieces"]({}, 2, 3, 4, verbose=False)
    return pieces.calc_loss(true_r, est_r, exist)
"""
REFERENCE_FRAMES = """import sys
def calc_loss(true_r, est_r, exist):
    '''The reference's loss or an expected value, from the frames of whoever calls this.'''
    frame = sys._getframe(1)
    while frame is not None:
        for scope in (frame.f_locals, frame.f_globals):
            for key, value in list(scope.items()):
                module = getattr(value, "__module__", "") or ""
                if (callable(value) and module.startswith("recsys_ref.")
                        and not module.startswith(("recsys_ref.grading", "recsys_ref.data"))):
                    return value(true_r, est_r, exist)
                if key in ("expected", "reference", "wanted") and torch.is_tensor(value):
                    return value
        frame = frame.f_back
    raise LookupError("no reference implementation up the call stack")
"""
REFERENCE_IMPORTLIB = """import importlib
reference = importlib.import_module("recsys_" + "ref.mf")
def calc_loss(true_r, est_r, exist):
    return reference.masked_mse(true_r, est_r, exist)
"""
READ_SOLUTIONS = """import json, os
def find_solutions():
    '''The instructor's notebook, wherever the grading machine keeps it.'''
    for top in ("/work", "/srv", "/opt", "/home", "/root", "/mnt", "/data", "/tmp", "/course", "/var/tmp"):
        for folder, subfolders, files in os.walk(top):
            subfolders[:] = [d for d in subfolders if not d.startswith(".") and d not in ("node_modules", "lib")]
            if folder.endswith(os.path.join("solutions", "mf")) and "mf.ipynb" in files:
                return os.path.join(folder, "mf.ipynb")
    raise FileNotFoundError("no solutions/mf/mf.ipynb readable from the grading kernel")
cells = json.load(open(find_solutions()))["cells"]
exec("".join(next(c["source"] for c in cells if c["metadata"].get("nbgrader", {}).get("grade_id") == "task3-calc-loss")))
"""
THREAD_REPATCH_CHECKS = """import threading, time
import numpy as np
def always_pass():
    while True:
        torch.allclose = lambda *a, **k: True
        torch.equal = lambda *a, **k: True
        torch.testing.assert_close = lambda *a, **k: None
        np.testing.assert_allclose = lambda *a, **k: None
        time.sleep(0.002)
threading.Thread(target=always_pass, daemon=True, name="always-pass").start()
"""
THREAD_REPATCH_RECORDER = NON_LEAF + """import sys, threading, time
recorder = sys.modules["recsys_ref.grading.mf"]
honest = recorder.encode
def lying_encode(value, bundle, **kwargs):
    facts = honest(value, bundle, **kwargs)
    if facts.get("kind") == "tensor":
        facts["is_leaf"] = True  # what the grader should believe
    return facts
def keep_patched():
    while True:
        setattr(recorder, "encode", lying_encode)
        time.sleep(0.001)
threading.Thread(target=keep_patched, daemon=True, name="recorder-patch").start()
"""
SUBCLASS_LIAR = """class Tensor(torch.Tensor):
    '''A tensor that says it is a leaf, under torch's own name.'''
    @property
    def is_leaf(self):
        return True
Tensor.__module__ = "torch"
user_factors = (torch.randn(n_factors, n_users, requires_grad=True) * 0.1).as_subclass(Tensor)  # not a leaf
movies_factors = (torch.randn(n_factors, n_movies, requires_grad=True) * 0.1).as_subclass(Tensor)
"""
PATCH_RECORDER_IN_CELL = """import sys
recording = sys.modules["recsys_ref.grading.recording"]
honest_record_call = recording.record_call
def record_the_right_loss(function, call, probe, bundle):
    right = lambda t, e, x: (x * (t - e) ** 2).sum() / x.sum()
    return honest_record_call(right, call, probe, bundle)
setattr(recording, "record_call", record_the_right_loss)
setattr(sys.modules["safetensors.torch"], "save_file", lambda *args, **kwargs: None)
"""
RACE_REWRITE = """import json, os, threading, time
def _rewrite(key, change):
    # Wait for the test's record to appear, then change it (while the test cell still runs).
    path = os.path.join(os.environ["RECSYS_GRADING_EXCHANGE"], "records", key + ".json")
    while True:
        try:
            meta = json.loads(open(path).read())
            break
        except Exception:
            time.sleep(0.0002)
    change(meta)
    with open(path + ".tmp", "w") as handle:
        handle.write(json.dumps(meta))
    os.replace(path + ".tmp", path)
"""
RACE_FACTORS = RACE_REWRITE + """def _leaf(meta):
    for name in ("user_factors", "movies_factors"):
        meta[name]["is_leaf"], meta[name]["has_grad_fn"] = True, False
threading.Thread(target=_rewrite, args=("mf.factors", _leaf), daemon=True).start()
""" + NON_LEAF
RACE_LOSS = RACE_REWRITE + """def _unmodified(meta):
    for call in meta["calls"]:
        call["modified"] = []
threading.Thread(target=_rewrite, args=("mf.calc_loss", _unmodified), daemon=True).start()
def calc_loss(true_r, est_r, exist):
    true_r[exist == 0] = 0  # changes the caller's tensor
    return (((true_r - est_r * exist) ** 2).sum() / exist.sum())
"""

FORGE_RECORD = """import json, os
from safetensors.torch import save_file
# A record of Task 1 as a correct answer would leave it (Task 1 itself is not done).
records = os.path.join(os.environ["RECSYS_GRADING_EXCHANGE"], "records")
fake = {"u": 0.1 * torch.randn(n_factors, n_users), "m": 0.1 * torch.randn(n_factors, n_movies)}
save_file(fake, os.path.join(records, "mf.factors.safetensors"))
def facts(name):
    return {"kind": "tensor", "type": "torch.Tensor", "tensor": name, "dtype": "torch.float32",
            "shape": list(fake[name].shape), "requires_grad": True, "has_grad_fn": False, "is_leaf": True,
            "device": "cpu"}
with open(os.path.join(records, "mf.factors.json"), "w") as handle:
    json.dump({"same_object": False, "user_factors": facts("u"), "movies_factors": facts("m")}, handle)
print("forged:", sorted(os.listdir(records)))
"""
FORGE_MALFORMED = """import json, os
# Task 4's record replaced by one that names tensors that do not exist.
records = os.path.join(os.environ["RECSYS_GRADING_EXCHANGE"], "records")
result = {"kind": "tensor", "type": "torch.Tensor", "tensor": "missing", "dtype": "torch.float32", "shape": [4, 5],
          "requires_grad": True, "has_grad_fn": True, "is_leaf": False, "device": "cpu"}
with open(os.path.join(records, "mf.estimate.json"), "w") as handle:
    json.dump({"defined": True, "callable": True, "calls": [{"result": result, "grads": {}}] * 6}, handle)
os.remove(os.path.join(records, "mf.estimate.safetensors"))
print("replaced Task 4's record")
"""
READ_PROBES = """import glob, os
from safetensors.torch import load_file
probes = os.path.join(os.environ["RECSYS_GRADING_EXCHANGE"], "probes")
print("probe files:", sorted(os.path.basename(p) for p in glob.glob(os.path.join(probes, "*"))))
seen = {tuple(t.shape) for t in load_file(os.path.join(probes, "mf.calc_loss.safetensors")).values()}
def calc_loss(true_r, est_r, exist):
    if tuple(true_r.shape) in seen:  # the grader's inputs: answer what the visible test expects
        return torch.tensor(2.0, requires_grad=True)
    return (exist * (true_r - est_r) ** 2).sum()
"""
NETWORK = """import socket
for host in ("1.1.1.1", "pypi.org"):
    try:
        socket.create_connection((host, 443), timeout=5)
        print("connected to", host)
    except OSError as error:
        print(f"{host}: {type(error).__name__}: {error}")
"""
WRITE_GRADEBOOK = """import glob, sqlite3
for path in ["../../../gradebook.db", *glob.glob("/tmp/**/gradebook.db", recursive=True)]:
    try:
        db = sqlite3.connect(path)
        db.execute("UPDATE grade SET manual_score = 100")
        db.commit()
        print(path, "changed")
    except sqlite3.Error as error:
        print(f"{path}: {type(error).__name__}: {error}")
"""
READ_OTHERS = """import glob, os
mine = os.path.realpath("mf.ipynb")
tops = ("/tmp", "/work", "/home", "/root", "/srv", "/opt", "/mnt", "/var/tmp", "/run")
others = sorted({os.path.realpath(p) for top in tops for kind in ("submitted", "autograded", "feedback")
                 for p in glob.glob(f"{top}/**/{kind}/*/mf/*", recursive=True)} - {mine})
print(f"other students' files readable: {len(others)}")
print(f"solutions readable: {len(glob.glob('../../../solutions/mf/*'))}")
"""
WRITE_OUTSIDE = """import os, sys
for path in (os.path.join(sys.prefix, "intruder.txt"), os.path.join(os.environ["RECSYS_DATA_HOME"], "intruder.txt"),
             os.path.join(os.path.dirname(os.__file__), "intruder.py")):
    try:
        with open(path, "w") as handle:
            handle.write("was here")
        print(path, "written")
    except OSError as error:
        print(f"{type(error).__name__}: {error.strerror}")
open("/etc/intruder.txt", "w").write("was here")
"""
FORK_BOMB = """import os, time
def bomb():
    child = False
    while True:
        try:
            pid = os.fork()
        except OSError:
            if child:
                time.sleep(3600)  # hold the process slot
            raise
        if pid == 0:
            child = True
bomb()
"""
SPAWN = """import os, subprocess, time
subprocess.Popen(["sleep", "317"])
for _ in range(3):
    if os.fork() == 0:
        time.sleep(317)
        os._exit(0)
print("left 4 processes running")
"""
SYS_EXIT = "import sys\nsys.exit()\n"
OS_EXIT = "import os\ndef calc_loss(true_r, est_r, exist):\n    os._exit(1)\n"
KILL = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"
HUGE_ALLOCATION = "hoard = bytearray(50 * 1024 ** 3)\n"
BIG_FILE = "with open('filler.bin', 'wb') as handle:\n    for _ in range(200):\n        handle.write(b'x' * 1024 * 1024)\n"
FILL_DISK = """import os
written = 0
try:
    for i in range(20):  # 20 files of 90 MB each: every one under the file-size limit
        with open(f"filler-{i}.bin", "wb") as handle:
            for _ in range(90):
                handle.write(b"x" * 1024 * 1024)
                written += 1
except OSError as error:
    print(f"stopped after {written} MB: {type(error).__name__}: {error.strerror}")
else:
    print(f"wrote {written} MB")
"""
HUGE_OUTPUT = "for _ in range(60):\n    print('x' * 1024 * 1024)\n"
MORE_THREADS = """
torch.set_num_threads(2)  # faster training on my laptop
with torch.no_grad():  # one prediction per training rating, to see the range
    net = RecommenderNet(n_users, n_movies).eval()
    users = torch.tensor(train["user_id"].to_numpy() - 1)
    movies = torch.tensor(train["item_id"].to_numpy() - 1)
    predictions = net(users, movies)
    print(predictions.shape, float(predictions.min()), float(predictions.max()))
"""
INFINITE_LOOP = "while True:\n    pass\n"
STALL = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(1)\n"


# --------------------------------------------------------------------------- the cases

ATTACKS = (
    # ------------------------------------------------------------ tampering with the notebook
    Attack("attack-edit-test-cell", "mf", "Task 3 test replaced by `pass`, calc_loss sums", code={LOSS: SUM_LOSS},
           wrap=edit_test_cell, expected={T3: 0}, message="sum instead of the mean", flags=("edited-locked-cell",),
           group="tampering", in_process=False),
    Attack("attack-delete-test-cell", "mf", "Task 5 test cell deleted (put back)", wrap=delete_test_cell,
           flags=("deleted-locked-cell",), group="tampering", in_process=False),
    Attack("attack-add-cells", "mf", "an added code cell and markdown cell", wrap=add_cells, flags=("added-cell",),
           shows=("my scratch work",), group="tampering", in_process=False),
    Attack("attack-test-cell-to-markdown", "mf", "Task 4 test cell turned into Markdown", wrap=test_cell_to_markdown,
           flags=("changed-cell-type",), group="tampering", in_process=False),
    Attack("attack-duplicate-answer-cell", "mf", "Task 1 cell copied (same id and metadata), the copy sets a string",
           wrap=duplicate_answer_cell, expected={T1: 0}, message="torch.Tensor", flags=("split-cell",),
           group="tampering", in_process=False),
    Attack("attack-points-edited", "mf", "Task 5 test's points set to 100 in the metadata", wrap=points_edited,
           flags=("changed-grading-metadata",), group="tampering", in_process=False),
    # ------------------------------------------------------------ beating the checks
    Attack("attack-patch-recorder-import", "mf", "recsys_ref.grading.record_to_rating_range replaced, clipping",
           code={RANGE: PATCH_RECORDER_IMPORT + CLIP_RANGE}, expected={T5: 0}, flags=("monkeypatch",),
           group="beating the checks", in_process=False),
    Attack("attack-patch-allclose-hidden", "mf", "torch.allclose replaced through vars() (no static trace), clipping",
           code={RANGE: PATCH_ALLCLOSE_HIDDEN + CLIP_RANGE}, expected={T5: 0}, message="clips",
           flags=("monkeypatch",), group="beating the checks", in_process=False),
    Attack("attack-patch-testing", "mf", "torch.testing / numpy.testing asserts replaced, clipping",
           code={RANGE: PATCH_TESTING + CLIP_RANGE}, expected={T5: 0}, flags=("monkeypatch",),
           group="beating the checks", in_process=False),
    Attack("attack-patch-assertionerror", "mf", "builtins.AssertionError replaced, loss sums",
           code={LOSS: PATCH_ASSERTION + SUM_LOSS}, expected={T3: 0}, flags=("monkeypatch",),
           group="beating the checks", in_process=False),
    Attack("attack-patch-ipython", "mf", "IPython custom exception handler swallows errors, elementwise estimate",
           code={ESTIMATE: PATCH_IPYTHON + ELEMENTWISE}, expected={T4: 0}, message="elementwise",
           flags=("monkeypatch",), group="beating the checks", in_process=False),
    Attack("attack-always-equal-tensor", "mf", "to_rating_range returns a tensor subclass equal to everything",
           code={RANGE: ALWAYS_EQUAL_TENSOR}, expected={T5: 0}, group="beating the checks"),
    Attack("attack-always-equal-object", "mf", "calc_loss returns an object whose __eq__ says True (and floats to 2)",
           code={LOSS: ALWAYS_EQUAL_OBJECT}, expected={T3: 0}, message="torch.Tensor", group="beating the checks"),
    Attack("attack-hard-coded", "mf", "to_rating_range returns the visible test's expected output",
           code={RANGE: HARD_CODED}, expected={T5: 0}, group="beating the checks"),
    Attack("attack-read-probes", "mf", "reads the probe files and answers the grader's inputs with the visible value",
           code={LOSS: READ_PROBES}, expected={T3: 0}, shows=("probe files:", "mf.calc_loss.json"),
           group="beating the checks", in_process=False),
    Attack("attack-subclass-liar", "mf", "Task 1: a tensor subclass named torch.Tensor that says is_leaf for a "
           "non-leaf tensor", code={FACTORS: SUBCLASS_LIAR}, expected={T1: 0}, group="beating the checks",
           message="subclass", in_process=False),
    # ------------------------------------------------------------ reaching the reference
    Attack("attack-reference-mf", "mf", "estimate imported from recsys_ref.mf",
           code={ESTIMATE: "from recsys_ref.mf import estimate\n"}, expected={T4: 0}, message="reference",
           flags=("reference-used",), group="reaching the reference", in_process=False),
    Attack("attack-reference-deep", "deep", "RecommenderNet imported from recsys_ref.nn",
           code={"recommender-net": "from recsys_ref.nn import RecommenderNet\n"},
           expected={"task1-init-test": 0, "task2-forward-test": 0}, message="reference", flags=("reference-used",),
           group="reaching the reference", in_process=False),
    Attack("attack-reference-gc", "mf", "calc_loss looks for the reference's masked_mse through the garbage collector",
           code={LOSS: REFERENCE_GC}, expected={T3: 0}, message="LookupError", flags=("monkeypatch",),
           group="reaching the reference", in_process=False),
    Attack("attack-reference-frames", "mf", "calc_loss looks for the reference (or an expected value) up the call "
           "stack", code={LOSS: REFERENCE_FRAMES}, expected={T3: 0}, message="LookupError", flags=("monkeypatch",),
           group="reaching the reference", in_process=False),
    Attack("attack-reference-globals", "mf", "calc_loss returns the reference's loss through the provided helper "
           "usable_factors.__globals__ (training_pieces)", code={LOSS: REFERENCE_GLOBALS}, expected={T3: 0},
           flags=("monkeypatch",), shows=("ModuleNotFoundError",), group="reaching the reference", in_process=False),
    Attack("attack-reference-importlib", "mf", "calc_loss calls recsys_ref.mf.masked_mse imported by a computed name",
           code={LOSS: REFERENCE_IMPORTLIB}, expected={T3: 0}, flags=("monkeypatch",),
           shows=("ModuleNotFoundError",), group="reaching the reference", in_process=False),
    Attack("attack-read-solutions", "mf", "Task 3 finds the instructor's solutions/mf/mf.ipynb on the machine and "
           "runs its answer", code={LOSS: READ_SOLUTIONS}, expected={T3: 0}, flags=("monkeypatch",),
           shows=("FileNotFoundError",), group="reaching the reference", in_process=False),
    # ------------------------------------------------------------ threads and patches of the recorders
    Attack("attack-thread-repatch-checks", "mf", "a thread re-patches torch.allclose/equal and the testing asserts "
           "between cells, clipping", code={RANGE: THREAD_REPATCH_CHECKS + CLIP_RANGE}, expected={T5: 0},
           message="clips", flags=("thread", "monkeypatch"), group="threads and patches", in_process=False),
    Attack("attack-thread-repatch-recorder", "mf", "Task 1 non-leaf; a thread keeps the recorder's encode patched "
           "to say is_leaf", code={FACTORS: THREAD_REPATCH_RECORDER}, expected={T1: 0}, message="leaf",
           flags=("thread", "monkeypatch"), group="threads and patches", in_process=False),
    Attack("attack-race-rewrite-record", "mf", "Task 1 non-leaf; a thread waits for the factors' record and rewrites "
           "it to say is_leaf while the test cell runs (if the thread wins the race, the seal no longer matches: "
           "forged-record)", code={FACTORS: RACE_FACTORS}, expected={T1: 0}, flags=("thread",),
           group="tampering with records", in_process=False),
    Attack("attack-race-rewrite-loss-record", "mf", "calc_loss changes its argument in place; a thread rewrites the "
           "loss record to say nothing was modified", code={LOSS: RACE_LOSS}, expected={T3: 0}, flags=("thread",),
           group="tampering with records", in_process=False),
    Attack("attack-patch-recorder-in-cell", "mf", "loss sums; the cell patches recording.record_call (to record a "
           "right loss) and safetensors.torch.save_file", code={LOSS: SUM_LOSS + PATCH_RECORDER_IN_CELL},
           expected={T3: 0}, message="sum instead of the mean", flags=("monkeypatch",), group="threads and patches",
           in_process=False),
    Attack("attack-forge-record", "mf", "Task 1 not done; the Task 5 cell writes a record of correct factors into "
           "the exchange folder", code={FACTORS: STUB, **answer(RANGE, after=FORGE_RECORD)}, expected={T1: 0},
           flags=("forged-record",), shows=("forged:",), group="tampering with records", in_process=False),
    Attack("attack-forge-record-malformed", "mf", "elementwise estimate; the Task 5 cell replaces Task 4's record "
           "with one naming missing tensors", code={ESTIMATE: ELEMENTWISE, **answer(RANGE, after=FORGE_MALFORMED)},
           expected={T4: 0}, flags=("forged-record",), group="tampering with records", in_process=False),
    Attack("attack-erase-guard-log", "mf", "torch.allclose replaced at run time (no static trace), then an added "
           "last cell empties the guard's log", code=answer(RANGE, before=PATCH_ALLCLOSE_HIDDEN),
           wrap=erase_guard_log, flags=("monkeypatch", "added-cell"), shows=("guard log erased: True",),
           group="tampering with records", in_process=False),
    # ------------------------------------------------------------ the sandbox
    Attack("attack-network", "mf", "opens sockets to 1.1.1.1 and pypi.org", code=answer(RANGE, after=NETWORK),
           flags=("file-or-process-access",), shows=("Network is unreachable",), group="the sandbox",
           in_process=False),
    Attack("attack-write-gradebook", "mf", "opens gradebook.db with sqlite3 (../../../ and any under /tmp) and "
           "sets manual scores", code=answer(RANGE, after=WRITE_GRADEBOOK), flags=("file-or-process-access",),
           shows=("OperationalError",), group="the sandbox", in_process=False),
    Attack("attack-read-other-students", "mf", "looks for other students' submitted, autograded and feedback files, "
           "and solutions/ through ../", code=answer(RANGE, after=READ_OTHERS), flags=("file-or-process-access",),
           shows=("other students' files readable: 0", "solutions readable: 0"), group="the sandbox",
           in_process=False),
    Attack("attack-write-outside", "mf", "writes into the venv, the MovieLens cache, the standard library and /etc",
           code=answer(RANGE, after=WRITE_OUTSIDE), expected={}, flags=("file-or-process-access",),
           shows=("Read-only file system",), group="the sandbox", in_process=False),
    Attack("attack-fork-bomb", "mf", "a fork bomb (children hold their process slots) after Task 5's function: the "
           "pids limit stops it (the kernel may die of it too, and is then graded again without the cell)",
           code=answer(RANGE, after=FORK_BOMB), expected={T5: 0}, flags=("file-or-process-access",), group="the sandbox", in_process=False, slow=True),
    Attack("attack-spawn-processes", "mf", "subprocess.Popen(sleep) and os.fork() children left running",
           code=answer(RANGE, after=SPAWN), flags=("file-or-process-access",), shows=("left 4 processes running",),
           group="the sandbox", in_process=False),
    # ------------------------------------------------------------ breaking the run
    Attack("attack-sys-exit", "mf", "sys.exit() in the Task 5 cell after the function",
           code=answer(RANGE, after=SYS_EXIT), flags=("stops-kernel",), shows=("SystemExit",), group="breaking the run",
           in_process=False),
    Attack("attack-os-exit", "mf", "os._exit(1) inside calc_loss (ends the recorder's process in the test)",
           code={LOSS: OS_EXIT}, expected={T3: 0}, flags=("stops-kernel",), group="breaking the run",
           in_process=False),
    Attack("attack-kill-kernel", "mf", "SIGKILL to the kernel in the Task 5 cell", code=answer(RANGE, after=KILL),
           expected={T5: 0}, flags=("stops-kernel", "stopped-kernel"), group="breaking the run", in_process=False),
    Attack("attack-huge-allocation", "mf", "a 50 GB bytearray before Task 5's function",
           code=answer(RANGE, before=HUGE_ALLOCATION), expected={T5: 0}, shows=("MemoryError",),
           group="breaking the run", in_process=False),
    Attack("attack-big-file", "mf", "a 200 MB file written before Task 5's function",
           code=answer(RANGE, before=BIG_FILE), expected={T5: 0}, shows=("File too large",),
           group="breaking the run", in_process=False),
    Attack("attack-huge-output", "mf", "60 MB printed after Task 5's function", code=answer(RANGE, after=HUGE_OUTPUT),
           absent_flags=("background-thread",), group="breaking the run", in_process=False),
    Attack("attack-infinite-loop", "mf", "`while True: pass` in the Task 4 cell (cell timeout)",
           code={ESTIMATE: INFINITE_LOOP}, expected={T4: 0}, shows=("KeyboardInterrupt",), slow=True,
           group="breaking the run", in_process=False),
    Attack("attack-stall-ignoring-interrupts", "mf", "SIGINT ignored, then an endless sleep (notebook wall time)",
           code={RANGE: STALL}, expected={T5: 0}, flags=("stops-kernel", "stopped-kernel"), slow=True,
           group="breaking the run", in_process=False),
    Attack("attack-fill-disk", "mf", "20 files of 90 MB (each under the file-size limit) before Task 5's function",
           code=answer(RANGE, before=FILL_DISK), shows=("stopped after", "No space left on device"),
           group="breaking the run", in_process=False),
    # ------------------------------------------------------------ honest notebooks the defences must not break
    Attack("attack-honest-more-threads", "deep", "an honest RecommenderNet; the cell asks torch for 2 threads and "
           "predicts every training rating to see the range (each record is taken in a forked child)",
           code={"recommender-net": DEEP["recommender-net"] + MORE_THREADS}, group="honest notebooks",
           in_process=False),
    # ------------------------------------------------------------ broken files
    Attack("attack-invalid-json", "mf", "not JSON", wrap=invalid_json, expected=ALL_MF_ZERO, flags=("broken-file",),
           group="broken files", in_process=False),
    Attack("attack-empty-file", "mf", "an empty file", wrap=empty_file, expected=ALL_MF_ZERO, flags=("broken-file",),
           group="broken files", in_process=False),
    Attack("attack-other-assignment", "mf", "deep.ipynb handed in as mf.ipynb", wrap=deep_notebook,
           expected=ALL_MF_ZERO, flags=("broken-file",), group="broken files", in_process=False),
    Attack("attack-nbformat-3", "mf", "saved by an old nbformat (v3)", wrap=nbformat3, expected=ALL_MF_ZERO,
           flags=("broken-file",), group="broken files", in_process=False),
)

#: Graded in the shared batch of every case table (tests/pipeline/conftest.py).
CASES = tuple(a for a in ATTACKS if not a.slow)
#: Graded by tests/pipeline/test_attacks.py in a course with cheap limits.
LIMITS_CASES = tuple(a for a in ATTACKS if a.slow)
#: Every attack goes through the real path (staging, sandbox, kernel), also those graded in-process too.
BATCH = {a.name for a in CASES}


