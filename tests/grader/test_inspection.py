"""The scan of students' code reads its syntax tree: flags for what code does, nothing for what text says."""

from __future__ import annotations

import pytest

from grader.inspection import neutralise_shell, reference_use, scan_code


def kinds(source: str) -> set[str]:
    return {flag.kind for flag in scan_code(source, "cell")}


@pytest.mark.parametrize("source", [
    "# like recsys_ref.mf.masked_mse, written myself\nx = 1",
    '"""Unlike recsys_ref.nn.RecommenderNet, this uses F.relu."""',
    "message = 'do not import recsys_ref.mf'",
    "from recsys_ref.data import load_movielens_100k",
    "import torch\nloss = torch.nn.functional.mse_loss(a, b)",
    "%matplotlib inline\nimport matplotlib.pyplot as plt",
    "x = torch.zeros(3)\nx[0] = 1.0",
    # the course's tooling, which the provided cells import themselves: not the reference of a graded task
    "from recsys_ref.grading import usable_factors",
    "import recsys_ref.grading\nfrom recsys_ref.grading import training_pieces",
    "from recsys_ref.grading.exchange import read_probe",
    "from recsys_ref import grading, data",
    "import recsys_ref",
    "from recsys_ref.metrics import rmse",
    "from recsys_ref.training import predict_ratings, train_recommender_net",
    "import recsys_ref\nsplit = recsys_ref.data.random_split",
    "from recsys_ref.data.__main__ import main",
])
def test_text_and_allowed_code_flag_nothing(source):
    assert kinds(source) == set()


@pytest.mark.parametrize("source", [
    "from recsys_ref.mf import masked_mse",
    "import recsys_ref.mf as m",
    "from recsys_ref import nn",
    "import recsys_ref\nf = recsys_ref.mf.estimate",
    "import importlib\nm = importlib.import_module('recsys_ref.mf')",
    "m = __import__('recsys_ref.nn')",
    "from recsys_ref.implicit import BPRModel",
    "from recsys_ref.ranking import top_k",
    "from recsys_ref.metrics.ranking import ndcg_at_k",
    # a graded task's reference re-exported by a module that is otherwise allowed
    "from recsys_ref.metrics import recall_at_k",
    "from recsys_ref.nn_training import RecommenderNet",
    "import recsys_ref.metrics\nf = recsys_ref.metrics.ndcg_at_k",
    # the original notebook's code (its RecommenderNet and dense MF)
    "from original_notebook.recommender_net import RecommenderNet",
    "import original_notebook.dense_mf as o",
    "from original_notebook import recommender_net",
])
def test_the_reference_used_by_code_is_flagged(source):
    assert "reference-used" in kinds(source)


@pytest.mark.parametrize("source, kind", [
    ("torch.allclose = lambda *a, **k: True", "monkeypatch"),
    ("setattr(torch, 'allclose', None)", "monkeypatch"),
    ("get_ipython().set_custom_exc((Exception,), None)", "monkeypatch"),
    ("import gc\nobjs = gc.get_objects()", "monkeypatch"),
    ("f = calc_loss.__globals__", "monkeypatch"),
    ("import sys\nframe = sys._getframe().f_back", "monkeypatch"),
    ("import sqlite3\nsqlite3.connect('../../gradebook.db')", "file-or-process-access"),
    ("open('/etc/passwd').read()", "file-or-process-access"),
    ("import socket\ns = socket.socket()", "file-or-process-access"),
    ("import os\nos.fork()", "file-or-process-access"),
    ("import os\nos._exit(0)", "stops-kernel"),
    ("import threading\nthreading.Thread(target=print).start()", "thread"),
    ("name = input('who?')", "asks-for-input"),
    ("!ls -la", "shell-command"),
    ("%%bash\nls", "shell-command"),
])
def test_what_code_does_is_flagged(source, kind):
    assert kind in kinds(source)


def test_shell_lines_alone_are_not_monkeypatching():
    assert kinds("!pip install torch\n%pip install -q pandas") == {"shell-command"}


def test_neutralise_shell_comments_out_shell_lines_only():
    text, changed = neutralise_shell("x = 1\n  !ls\n%time y = 2\n%pip install torch")
    assert changed
    assert text.split("\n") == ["x = 1", "  # not run while grading: !ls", "%time y = 2",
                                "# not run while grading: %pip install torch"]
    assert neutralise_shell("x = 1") == ("x = 1", False)


def test_code_that_does_not_parse_flags_nothing():
    assert kinds("def f(:\n  pass") == set()


def test_a_reference_import_that_fails_is_still_reference_use_of_its_cell_only():
    source = "try:\n    import recsys_ref.mf\nexcept Exception as e:\n    print(type(e).__name__)\n"
    assert reference_use(scan_code(source, "task1-factors")) == {
        "task1-factors": "imports recsys_ref.mf, the reference implementation"}


def test_the_provided_cells_own_imports_are_not_reference_use():
    """Copied from a provided cell into an answer cell, an import of the course's tooling costs nothing."""
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for assignment in ("mf", "deep", "rank"):
        nb = json.loads((root / "exercises" / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell["cell_type"] != "code" or meta.get("solution") or meta.get("grade"):
                continue
            source = "".join(cell["source"])
            lines = [line.strip() for line in source.splitlines()
                     if line.strip().startswith(("import recsys_ref", "from recsys_ref"))]
            for line in lines:
                allowed = not any(line.startswith((f"from {module} ", f"import {module}"))
                                  for module in ("recsys_ref.mf", "recsys_ref.implicit"))
                if allowed:
                    assert kinds(line) == set(), (assignment, line)


def test_reference_use_names_the_cell_and_the_module():
    flags = scan_code("from recsys_ref.mf import masked_mse\ncalc_loss = masked_mse", "task3-calc-loss")
    assert reference_use(flags) == {"task3-calc-loss": "imports recsys_ref.mf, the reference implementation"}
