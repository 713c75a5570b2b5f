"""The assignments' notebooks and the instructor flows around them.

Fast checks read the committed notebooks (structure, nbgrader metadata, no
outputs, points in the headers). The `nbgrader` tests run the real commands
in a temporary copy of the course: `make release` reproduces the committed
exercises/, an LMS zip is imported into submitted/, and each solution
notebook executes end to end within a minute.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))

from nbgrader_course import tree_differences  # noqa: E402

ASSIGNMENTS = {"mf": "mf.ipynb", "deep": "deep.ipynb"}
SOLUTIONS = [REPO / "solutions" / a / nb for a, nb in ASSIGNMENTS.items()]
RELEASES = [REPO / "exercises" / a / nb for a, nb in ASSIGNMENTS.items()]


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def nbgrader_meta(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def copy_course(target: Path, *, exercises: bool = True) -> Path:
    shutil.copy(REPO / "nbgrader_config.py", target)
    shutil.copytree(REPO / "solutions", target / "solutions")
    if exercises:
        shutil.copytree(REPO / "exercises", target / "exercises")
    return target


def run_script(name: str, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / name), *args], capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


# --------------------------------------------------------------------------- committed notebooks


@pytest.mark.parametrize("path", SOLUTIONS + RELEASES, ids=lambda p: str(p.relative_to(REPO)))
def test_notebooks_are_committed_without_outputs(path):
    for cell in load(path)["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, cell.get("id")


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.parent.name)
def test_solution_notebook_has_nbgrader_structure(path):
    nb = load(path)
    ids = [nbgrader_meta(c).get("grade_id") for c in nb["cells"]]
    assert all(ids), "every cell has an nbgrader id"
    assert len(set(ids)) == len(ids), "ids are unique"
    assert [c["id"] for c in nb["cells"]] == ids, "cell ids equal nbgrader ids"
    for cell in nb["cells"]:
        meta, text = nbgrader_meta(cell), source(cell)
        if meta["solution"]:
            assert "### BEGIN SOLUTION" in text and "### END SOLUTION" in text, meta["grade_id"]
            assert not meta["locked"]
        elif meta["grade"]:
            assert meta["points"] > 0 and meta["locked"], meta["grade_id"]
            assert "### BEGIN HIDDEN TESTS" in text and "### END HIDDEN TESTS" in text, meta["grade_id"]
            assert text.startswith('"""'), f"{meta['grade_id']}: a test cell opens with a docstring saying what it checks"
        else:
            assert meta["locked"], f"{meta['grade_id']}: provided cells are read-only"
            assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.parent.name)
def test_part_headers_state_the_points_of_their_tests(path):
    nb = load(path)
    stated = [int(n) for c in nb["cells"] if c["cell_type"] == "markdown"
              for n in re.findall(r"\((\d+) points?\)", source(c))]
    graded = [nbgrader_meta(c)["points"] for c in nb["cells"] if nbgrader_meta(c).get("grade")]
    assert stated == graded
    table_total = re.search(r"\*\*Total\*\* \| \*\*(\d+)\*\*", source(nb["cells"][0]))
    assert table_total and int(table_total.group(1)) == sum(graded)


def test_mf_provided_cells_set_the_seed_names():
    nb = load(REPO / "solutions" / "mf" / "mf.ipynb")
    setup = "\n".join(source(c) for c in nb["cells"] if nbgrader_meta(c)["grade_id"].startswith("setup"))
    for text in ("random_split(movielens.ratings, test_fraction=0.2, seed=0)", "ratings, exist = to_dense(",
                 "n_factors = 50", "n_users, n_movies = ratings.shape", "epochs = ", "logging_rate = "):
        assert text in setup


@pytest.mark.parametrize("path", RELEASES, ids=lambda p: p.parent.name)
def test_release_holds_no_solution_and_no_hidden_test(path):
    nb = load(path)
    text = "\n".join(source(c) for c in nb["cells"])
    for secret in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "from recsys_ref.grading import check_", "check_"):
        assert secret not in text
    stubs = [c for c in nb["cells"] if nbgrader_meta(c).get("solution")]
    assert stubs and all("raise NotImplementedError()" in source(c) for c in stubs)


def test_nbgrader_config_is_deliberate():
    text = (REPO / "nbgrader_config.py").read_text()
    for setting in ('source_directory = "solutions"', 'release_directory = "exercises"',
                    "Execute.timeout = 120", "OverwriteCells.add_missing_cells = True",
                    "GenerateFeedback.preprocessors", "FileNameCollectorPlugin.named_regexp"):
        assert setting in text


def test_named_regexp_reads_common_lms_file_names():
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()
    pattern = re.compile(config.FileNameCollectorPlugin.named_regexp)
    cases = {
        "/x/extracted/smithjane_12345_67890_mf.ipynb": ("smithjane", "mf"),
        "/x/extracted/smithjane_LATE_12345_67890_deep-1.ipynb": ("smithjane", "deep"),
        "/x/extracted/alice_mf.ipynb": ("alice", "mf"),
        "/x/extracted/sub/bob.k_deep.ipynb": ("bob.k", "deep"),
    }
    for path, (student, notebook) in cases.items():
        match = pattern.match(path)
        assert match and (match["student_id"], match["file_id"]) == (student, notebook), path
    assert pattern.match("/x/extracted/mf.ipynb") is None


# --------------------------------------------------------------------------- real nbgrader


@pytest.mark.nbgrader
def test_make_release_reproduces_the_committed_exercises(tmp_path):
    course = copy_course(tmp_path, exercises=False)
    (course / "solutions" / "mf" / "answer_ratings.csv").write_text("not released\n")  # as left by running mf
    run_script("release.py", "--course-dir", str(course))
    assert tree_differences(course / "exercises", REPO / "exercises") == []
    assert (course / "gradebook.db").exists()


@pytest.mark.nbgrader
def test_grade_imports_an_lms_zip_into_submitted(tmp_path):
    course = copy_course(tmp_path)
    archive = tmp_path / "downloads.zip"
    release_mf = (REPO / "exercises" / "mf" / "mf.ipynb").read_bytes()
    release_deep = (REPO / "exercises" / "deep" / "deep.ipynb").read_bytes()
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("smithjane_12345_67890_mf.ipynb", release_mf)
        handle.writestr("doejohn_LATE_23456_78901_mf-1.ipynb", release_mf)
        handle.writestr("doejohn_23456_78902_deep.ipynb", release_deep)
        handle.writestr("smithjane_12345_67890_notes.txt", "not a notebook")
    result = run_script("grade.py", "--course-dir", str(course), "--zip", str(archive), "--collect-only")
    submitted = sorted(str(p.relative_to(course / "submitted")) for p in (course / "submitted").rglob("*.ipynb"))
    assert submitted == ["doejohn/deep/deep.ipynb", "doejohn/mf/mf.ipynb", "smithjane/mf/mf.ipynb"], result.stdout


@pytest.mark.nbgrader
def test_grade_refuses_exercises_out_of_date(tmp_path):
    course = copy_course(tmp_path)
    release = course / "exercises" / "mf" / "mf.ipynb"
    (course / "submitted" / "alice" / "mf").mkdir(parents=True)
    shutil.copy(release, course / "submitted" / "alice" / "mf" / "mf.ipynb")
    release.write_text(release.read_text().replace("Task 1: the latent factors", "Task 1: changed"))
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "grade.py"), "--course-dir", str(course)],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode != 0
    assert "run `make release`" in result.stdout + result.stderr
    assert not (course / "autograded").exists()


@pytest.mark.nbgrader
@pytest.mark.movielens
@pytest.mark.slow
@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.parent.name)
def test_solution_notebook_executes_end_to_end_within_a_minute(path, tmp_path):
    """The whole notebook, as a student runs it (not autograding: nothing skipped), default threads."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    seconds = time.perf_counter() - started
    print(f"{path.parent.name}: executed end to end in {seconds:.1f} s (with kernel start)")
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert seconds <= 60
    if path.parent.name == "mf":
        assert (tmp_path / "answer_ratings.csv").exists()
