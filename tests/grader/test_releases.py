"""The assignments as released: committed notebooks, points defined once, the release history, `make release`."""

from __future__ import annotations

import re

import pytest

from grader import notebooks as nbs
from grader.course import Course, release_template
from grader.releases import known_sources, provided_cells, read_history, record_release, sync_points, text_hash
from notebook_cases import NOTEBOOKS, REPO

COURSE = Course(REPO)
ASSIGNMENTS = COURSE.assignments()


def test_every_assignment_is_released():
    assert ASSIGNMENTS, "solutions/ holds no assignment"
    for assignment in ASSIGNMENTS:
        assert (COURSE.exercises / assignment / NOTEBOOKS.get(assignment, f"{assignment}.ipynb")).is_file()


@pytest.mark.parametrize("folder", ["solutions", "exercises"])
def test_notebooks_are_committed_without_outputs(folder):
    for path in sorted((REPO / folder).glob("*/*.ipynb")):
        for cell in nbs.read_notebook(path)[0].cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{path}: {cell.get('id')}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_notebook_structure(assignment):
    nb = nbs.read_notebook(COURSE.solutions / assignment / f"{assignment}.ipynb")[0]
    ids = [nbs.grade_id(c) for c in nb.cells]
    assert all(ids) and len(set(ids)) == len(ids), "every cell has a unique nbgrader grade id"
    for cell in nb.cells:
        text = nbs.source(cell)
        if nbs.is_grade(cell):
            assert nbs.grading_metadata(cell).get("points", 0) > 0, nbs.grade_id(cell)
            assert text.startswith('"""'), f"{nbs.grade_id(cell)}: a test cell opens with a docstring saying what it checks"
            hidden = re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", text, re.S)
            for region in hidden:
                # The hidden tests only record answers: the checks run in the grader, never in the kernel.
                assert all(line.startswith(("from recsys_ref.grading import record_", "record_"))
                           for line in region.strip().splitlines()), region
        if nbs.is_solution(cell):
            assert "### BEGIN SOLUTION" in text and "### END SOLUTION" in text, nbs.grade_id(cell)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_points_text_follows_the_metadata(assignment):
    nb = nbs.read_notebook(COURSE.solutions / assignment / f"{assignment}.ipynb")[0]
    assert sync_points(nb, assignment) == [], "run `make release`: the headings or the table disagree with the points"


def test_sync_points_rewrites_headings_and_table():
    nb = nbs.read_notebook(COURSE.solutions / "mf" / "mf.ipynb")[0]
    test_cell = next(c for c in nb.cells if nbs.grade_id(c) == "task3-calc-loss-test")
    test_cell.metadata["nbgrader"]["points"] = 4
    changes = sync_points(nb, "mf")
    text = "\n".join(nbs.source(c) for c in nb.cells if c.cell_type == "markdown")
    assert changes and "## Task 3: the loss (4 points)" in text
    assert re.search(r"\| Task 3 \|.*\| 4 \|", text) and "**Total** | **11**" in text


def test_sync_points_refuses_text_it_cannot_match():
    nb = nbs.read_notebook(COURSE.solutions / "mf" / "mf.ipynb")[0]
    intro = nb.cells[0]
    intro.source += "\n\nA bonus (3 points) for nothing."
    with pytest.raises(ValueError, match="graded cells"):
        sync_points(nb, "mf")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_history_records_the_current_release(assignment):
    for name, path in COURSE.release_notebooks(assignment).items():
        entries = read_history(COURSE)[assignment][name]
        assert entries[-1]["cells"] == provided_cells(nbs.read_notebook(path)[0]), "run `make release`"


def test_a_provided_cell_of_an_earlier_release_is_known(tmp_path):
    """An instructor edits a provided cell after release: both texts are known, so neither is the student's edit."""
    import shutil

    course = Course(tmp_path)
    for folder in ("solutions", "exercises"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    release = COURSE.release_notebooks("mf")["mf.ipynb"]
    nb = nbs.read_notebook(release)[0]
    before = text_hash(nbs.source(next(c for c in nb.cells if nbs.grade_id(c) == "setup-sizes")))
    cell = next(c for c in nb.cells if nbs.grade_id(c) == "setup-sizes")
    cell.source += "\nprint('sizes set')"
    nbs.write_notebook(nb, course.exercises / "mf" / "mf.ipynb")
    assert record_release(course, "mf")
    known = known_sources(course, "mf", "mf.ipynb")["setup-sizes"]
    assert before in known and text_hash(nbs.source(cell)) in known
    assert not record_release(course, "mf"), "recording the same release twice adds nothing"


@pytest.mark.nbgrader
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_make_release_reproduces_the_committed_exercises(assignment):
    template = release_template(COURSE, assignment)
    assert template.differences == (), "exercises/ is stale: run `make release` and commit"
    assert template.gradebook[:16] == b"SQLite format 3\x00"


def test_the_graders_sizes_match_the_mf_notebook():
    from grader.checks import mf

    nb = nbs.read_notebook(COURSE.exercises / "mf" / "mf.ipynb")[0]
    sizes = nbs.source(next(c for c in nb.cells if nbs.grade_id(c) == "setup-sizes"))
    assert f"n_factors = {mf.N_FACTORS}" in sizes and f"epochs = {mf.EPOCHS}" in sizes


def test_hidden_tests_never_reach_the_release():
    for path in sorted(COURSE.exercises.glob("*/*.ipynb")):
        text = path.read_text(encoding="utf-8")
        assert "BEGIN HIDDEN TESTS" not in text and "record_" not in text and "BEGIN SOLUTION" not in text, path
