"""Staging keeps the student's code whatever the tool did to the notebook, and flags what is unusual."""

from __future__ import annotations

import copy

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from grader import notebooks as nbs
from grader.staging import NotThisNotebook, stage
from notebook_cases import release_notebook, solution_code, submission


def kinds(staged) -> set[str]:
    return {flag.kind for flag in staged.flags}


def cell(nb, gid):
    return next(c for c in nb.cells if nbs.grade_id(c) == gid)


def answers(nb) -> dict[str, str]:
    return {nbs.grade_id(c): nbs.source(c) for c in nb.cells if nbs.is_solution(c)}


@pytest.fixture
def filled():
    return submission("mf")


def test_a_clean_submission_is_staged_as_it_is(filled):
    staged = stage(filled, release_notebook("mf"))
    assert answers(staged.notebook) == solution_code("mf")
    assert kinds(staged) == set()


def test_metadata_stripped_by_an_editor_is_recovered_from_the_text(filled):
    for c in filled.cells:
        c.metadata = {}
        c.pop("id", None)
    staged = stage(filled, release_notebook("mf"))
    assert answers(staged.notebook) == solution_code("mf")
    assert "metadata-restored" in kinds(staged)


def test_an_answer_cell_turned_into_markdown_is_graded_as_code_with_its_text(filled):
    index = filled.cells.index(cell(filled, "task4-estimate"))
    text = nbs.source(filled.cells[index])
    markdown = new_markdown_cell(text, metadata=copy.deepcopy(filled.cells[index].metadata))
    filled.cells[index] = markdown
    staged = stage(filled, release_notebook("mf"))
    graded = cell(staged.notebook, "task4-estimate")
    assert graded.cell_type == "code" and nbs.source(graded) == text
    assert "changed-cell-type" in kinds(staged)


def test_a_split_answer_cell_keeps_all_its_code_in_order(filled):
    original = cell(filled, "task3-calc-loss")
    lines = nbs.source(original).split("\n")
    second = copy.deepcopy(original)
    original.source, second.source = "\n".join(lines[:3]) + "\n    pass", "\n".join(lines)
    second["id"] = "split-half"
    filled.cells.insert(filled.cells.index(original) + 1, second)
    staged = stage(filled, release_notebook("mf"))
    texts = [nbs.source(c) for c in staged.notebook.cells]
    assert "\n".join(lines) in texts and "split-cell" in kinds(staged)
    assert sum(nbs.grade_id(c) == "task3-calc-loss" for c in staged.notebook.cells) == 1


def test_a_duplicated_test_cell_is_graded_once(filled):
    test = cell(filled, "task3-calc-loss-test")
    filled.cells.insert(filled.cells.index(test) + 1, copy.deepcopy(test))
    staged = stage(filled, release_notebook("mf"))
    assert sum(nbs.grade_id(c) == "task3-calc-loss-test" for c in staged.notebook.cells) == 1
    assert "duplicate-cell" in kinds(staged)


@pytest.mark.parametrize("gid", ["setup-data", "task3-calc-loss-test", "training"])
def test_deleted_provided_and_test_cells_come_back_in_place(filled, gid):
    filled.cells.remove(cell(filled, gid))
    staged = stage(filled, release_notebook("mf"))
    order = [nbs.grade_id(c) for c in staged.notebook.cells]
    release_order = [nbs.grade_id(c) for c in release_notebook("mf").cells]
    assert order == release_order
    assert "deleted-locked-cell" in kinds(staged)


def test_added_cells_run_as_written(filled):
    filled.cells.insert(5, new_code_cell("movielens.ratings.head()"))
    staged = stage(filled, release_notebook("mf"))
    assert "movielens.ratings.head()" in [nbs.source(c) for c in staged.notebook.cells]
    assert "added-cell" in kinds(staged)


def test_shell_lines_are_not_run_and_are_flagged(filled):
    code = cell(filled, "task1-factors")
    code.source = "%pip install -q torch\n!ls -la\n%matplotlib inline\n" + nbs.source(code)
    staged = stage(filled, release_notebook("mf"))
    text = nbs.source(cell(staged.notebook, "task1-factors"))
    assert "# not run while grading: %pip install -q torch" in text
    assert "# not run while grading: !ls -la" in text and "\n%matplotlib inline" in text
    assert kinds(staged) == {"shell-command"}, "a shell line is a shell command, not a monkeypatch"


def test_notebook_metadata_from_other_tools_is_replaced(filled):
    filled.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"version_major": 2}}
    filled.metadata["colab"] = {"provenance": []}
    filled.metadata["kernelspec"] = {"name": "conda-env-ml-py", "display_name": "ml", "language": "python"}
    staged = stage(filled, release_notebook("mf"))
    assert staged.notebook.metadata == release_notebook("mf").metadata


def test_cell_ids_are_valid_and_unique(filled):
    for c in filled.cells:
        c["id"] = "same"
    staged = stage(filled, release_notebook("mf"))
    ids = [c["id"] for c in staged.notebook.cells]
    assert len(set(ids)) == len(ids)


def test_another_assignments_notebook_is_refused_with_the_reason():
    with pytest.raises(NotThisNotebook, match="provided cells"):
        stage(submission("deep"), release_notebook("mf"), notebook="mf.ipynb")


def test_a_foreign_notebook_without_metadata_says_the_metadata_is_missing():
    foreign = submission("deep")
    for c in foreign.cells:
        c.metadata = {}
    with pytest.raises(NotThisNotebook, match="no nbgrader metadata"):
        stage(foreign, release_notebook("mf"), notebook="mf.ipynb")


def test_staging_changes_nothing_in_the_submission(filled):
    before = copy.deepcopy(filled)
    stage(filled, release_notebook("mf"))
    assert filled == before
