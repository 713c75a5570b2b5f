"""recsys_ref.grading.tamper and recsys_ref.grading.sandbox without nbgrader: flags, defined outcomes, limits."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from recsys_ref.grading.guard import source_hash
from recsys_ref.grading.tamper import inspect_submission, read_notebook, scan_source, solution_cell_before, staged_notebook

REPO = Path(__file__).resolve().parent.parent
RELEASE = json.loads((REPO / "exercises" / "mf" / "mf.ipynb").read_text())


def _write(tmp_path: Path, nb) -> Path:
    path = tmp_path / "mf.ipynb"
    path.write_text(nb if isinstance(nb, str) else json.dumps(nb))
    return path


def _cell(nb: dict, gid: str) -> dict:
    return next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == gid)


@pytest.mark.parametrize("text, reason", [
    ("", "empty"), ("{oops", "not valid JSON"), ("[1, 2]", "not a notebook"),
    (json.dumps({"nbformat": 3, "worksheets": []}), "format 3"),
])
def test_unreadable_files_get_a_reason(tmp_path, text, reason):
    nb, why = read_notebook(_write(tmp_path, text))
    assert nb is None and reason in why
    found = inspect_submission(tmp_path / "mf.ipynb", RELEASE)
    assert found.notebook is None and found.flags[0].kind == "broken-file"


def test_the_release_itself_is_clean(tmp_path):
    found = inspect_submission(_write(tmp_path, RELEASE), RELEASE)
    assert found.flags == [] and found.skip == {}


def test_structure_changes_are_flagged(tmp_path):
    nb = copy.deepcopy(RELEASE)
    _cell(nb, "task3-calc-loss-test")["source"] = "pass"
    _cell(nb, "task5-to-rating-range-test")["metadata"]["nbgrader"]["points"] = 100
    nb["cells"] = [c for c in nb["cells"] if c["metadata"]["nbgrader"].get("grade_id") != "task4-estimate-test"]
    nb["cells"].append({"cell_type": "code", "metadata": {}, "source": "print(1)", "outputs": [], "execution_count": None})
    kinds = {f.kind for f in inspect_submission(_write(tmp_path, nb), RELEASE).flags}
    assert {"edited-locked-cell", "changed-grading-metadata", "deleted-locked-cell", "added-cell"} <= kinds


def test_another_assignments_notebook_is_broken(tmp_path):
    deep = json.loads((REPO / "exercises" / "deep" / "deep.ipynb").read_text())
    found = inspect_submission(_write(tmp_path, deep), RELEASE)
    assert found.notebook is None and "another assignment" in found.broken


@pytest.mark.parametrize("code, kind", [
    ("import recsys_ref.grading\nrecsys_ref.grading.check_estimate = print", "monkeypatch"),
    ("import torch as T\nT.allclose = lambda *a, **k: True", "monkeypatch"),
    ("np.testing.assert_allclose = print", "monkeypatch"),
    ("import builtins\nbuiltins.AssertionError = Exception", "monkeypatch"),
    ("setattr(torch, 'allclose', print)", "monkeypatch"),
    ("get_ipython().set_custom_exc((AssertionError,), print)", "monkeypatch"),
    ("torch.Tensor.__eq__ = lambda s, o: True", "monkeypatch"),
    ("from recsys_ref.mf import estimate", "reference-used"),
    ("from recsys_ref.nn import RecommenderNet", "reference-used"),
    ("import subprocess\nsubprocess.run(['ls'])", "file-or-process-access"),
    ("text = open('/etc/passwd').read()", "file-or-process-access"),
    ("text = open('../../other/mf.ipynb').read()", "file-or-process-access"),
    ("import os\nos._exit(0)", "stops-kernel"),
])
def test_solution_code_flags(code, kind):
    assert kind in {f.kind for f in scan_source(code, "cell")}


@pytest.mark.parametrize("code", [
    "user_factors = (0.1 * torch.randn(n_factors, n_users)).requires_grad_()",
    "optimizer = optim.Adam([user_factors, movies_factors], lr=0.01)",
    "def estimate(u, m):\n    return u.T @ m",
    "x = torch.zeros(3)\nx[0] = 1.0\nself_value = x.sum()",
])
def test_ordinary_code_is_not_flagged(code):
    assert scan_source(code, "cell") == []


def test_staged_copy_skips_cells_and_restores_metadata():
    nb = copy.deepcopy(RELEASE)
    _cell(nb, "task5-to-rating-range-test")["metadata"]["nbgrader"]["points"] = 100
    staged = staged_notebook(nb, RELEASE, {"task4-estimate": "imports recsys_ref.mf"})
    assert "Not graded" in _cell(staged, "task4-estimate")["source"]
    assert _cell(staged, "task5-to-rating-range-test")["metadata"]["nbgrader"]["points"] == 2


def test_the_cell_that_stopped_the_kernel_maps_to_its_solution_cell():
    nb = copy.deepcopy(RELEASE)
    test_cell = "".join(_cell(nb, "task3-calc-loss-test")["source"])
    assert solution_cell_before(nb, [RELEASE], source_hash(test_cell), source_hash) == "task3-calc-loss"
    own = "".join(_cell(nb, "task4-estimate")["source"])
    assert solution_cell_before(nb, [RELEASE], source_hash(own), source_hash) == "task4-estimate"


def _sandboxed(limits: dict, code: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "recsys_ref.grading.sandbox", "--limits", json.dumps(limits), "--",
                           sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)


def test_sandbox_memory_limit():
    result = _sandboxed({"memory_mb": 300}, "bytearray(2 * 1024 ** 3)")
    assert result.returncode != 0 and "MemoryError" in result.stderr


def test_sandbox_file_size_limit(tmp_path):
    target = tmp_path / "big.bin"
    result = _sandboxed({"file_mb": 1}, f"open({str(target)!r}, 'wb').write(b'x' * 3 * 1024 * 1024)")
    assert result.returncode != 0 and "File too large" in result.stderr


def test_sandbox_notebook_wall_time_kills_the_kernel():
    started = time.perf_counter()
    result = _sandboxed({"notebook_seconds": 1}, "import time; time.sleep(30)")
    assert time.perf_counter() - started < 15
    assert result.returncode != 0 and "wall-time limit" in result.stderr
