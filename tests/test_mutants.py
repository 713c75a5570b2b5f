"""The grading pipeline end to end, through the real nbgrader, in one batch.

One temporary copy of the course (nbgrader_config.py, solutions/, exercises/)
receives one submission per student: the solution notebooks, the released
notebooks untouched, alternative correct solutions, a tampered notebook
(a deleted and an edited test cell), and one mutant per planted mistake of
``tests/mutants``. ``scripts/grade.py`` (what ``make grade`` runs) then
autogrades them with one ``nbgrader autograde`` call per assignment,
generates the feedback and exports the grades. The tests read the gradebook
and the feedback pages.

Set RECSYS_MUTANT_TABLE=<path> to also write the table of expected and
observed scores (markdown) there.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from mutants import (
    ALTERNATIVES,
    MUTANTS,
    POINTS,
    Mutant,
    completed_submission,
    grade_id,
    mutate,
    read_notebook,
    write_notebook,
)

pytestmark = [pytest.mark.nbgrader, pytest.mark.movielens, pytest.mark.slow]

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = {"mf": "mf.ipynb", "deep": "deep.ipynb"}
HIDDEN_SOURCE = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "from recsys_ref.grading import check_", "check_factors(",
                 "check_calc_loss(", "check_recommender_net_forward(", "Traceback (most recent call last)",
                 "site-packages", "grading/mf_checks.py")


@dataclass
class Graded:
    """The outcome of the batch."""

    course: Path
    scores: dict[str, dict[str, float]]  # student -> graded cell -> score
    output: str
    returncode: int
    seconds: float


def _tampered(release_nb: dict, solution_nb: dict) -> dict:
    """A deep submission with a forward mistake (no sigmoid) whose student deleted the Task 1 test
    cell and replaced the Task 2 test with `pass`: nbgrader must restore both cells."""
    sigmoid_missing = next(m for m in MUTANTS if m.name == "deep-no-sigmoid")
    nb = mutate(completed_submission(release_nb, solution_nb), sigmoid_missing)
    nb["cells"] = [c for c in nb["cells"] if grade_id(c) != "task1-init-test"]
    for cell in nb["cells"]:
        if grade_id(cell) == "task2-forward-test":
            cell["source"] = "pass  # tests removed"
    return nb


def build_submissions(course: Path) -> dict[str, str]:
    """Write every submission into submitted/; returns student -> assignment."""
    students: dict[str, str] = {}
    for assignment, notebook in NOTEBOOKS.items():
        release_nb = read_notebook(course / "exercises" / assignment / notebook)
        solution_nb = read_notebook(course / "solutions" / assignment / notebook)

        def put(student: str, nb: dict) -> None:
            write_notebook(nb, course / "submitted" / student / assignment / notebook)
            students[student] = assignment

        put(f"{assignment}-solution", solution_nb)  # the instructor notebook itself
        put(f"{assignment}-untouched", release_nb)
        put(f"{assignment}-alternative", completed_submission(release_nb, solution_nb, ALTERNATIVES[assignment]))
        completed = completed_submission(release_nb, solution_nb)
        for mutant in MUTANTS:
            if mutant.assignment == assignment:
                put(mutant.name, mutate(completed, mutant))
        if assignment == "deep":
            put("deep-tampered", _tampered(release_nb, solution_nb))
    return students


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Graded:
    course = tmp_path_factory.mktemp("course")
    shutil.copy(REPO / "nbgrader_config.py", course)
    shutil.copytree(REPO / "solutions", course / "solutions")
    shutil.copytree(REPO / "exercises", course / "exercises")
    build_submissions(course)
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "grade.py"), "--course-dir", str(course)],
        capture_output=True, text=True, timeout=3600,
    )
    seconds = time.perf_counter() - started
    from recsys_ref.grading.report import collect_scores

    scores: dict[str, dict[str, float]] = {}
    for row in collect_scores(course):
        scores.setdefault(row.student, {})[row.task] = row.score
    graded = Graded(course, scores, result.stdout + result.stderr, result.returncode, seconds)
    _write_table(graded)
    return graded


def _observed_text(mutant: Mutant, observed: dict[str, float]) -> str:
    total = sum(observed.values())
    lost = [f"{cell.removesuffix('-test')} {observed[cell]:g}/{POINTS[mutant.assignment][cell]}"
            for cell in POINTS[mutant.assignment] if observed.get(cell) != POINTS[mutant.assignment][cell]]
    return f"{total:g}/{sum(POINTS[mutant.assignment].values())}" + (f" (lost: {', '.join(lost)})" if lost else "")


def _write_table(graded: Graded) -> None:
    lines = [
        f"Mutation suite: {len(MUTANTS)} mutants + baselines, graded in {graded.seconds:.0f} s",
        "",
        "| mutant | task | mistake | expected score | observed score |",
        "|---|---|---|---|---|",
    ]
    for mutant in MUTANTS:
        expected = mutant.expected_scores()
        observed = graded.scores.get(mutant.name, {})
        lines.append(
            f"| {mutant.name} | {mutant.task.removesuffix('-test')} | {mutant.mistake} | "
            f"{_observed_text(mutant, expected)} | {_observed_text(mutant, observed) if observed else 'not graded'} |"
        )
    text = "\n".join(lines) + "\n"
    (graded.course / "mutation_table.md").write_text(text)
    if os.environ.get("RECSYS_MUTANT_TABLE"):
        Path(os.environ["RECSYS_MUTANT_TABLE"]).write_text(text + "\n```\n" + graded.output[-6000:] + "\n```\n")
    print(text)


# --------------------------------------------------------------------------- the batch


def test_batch_grades_every_submission_without_errors(graded):
    assert graded.returncode == 0, graded.output[-3000:]
    students = set(graded.scores)
    for mutant in MUTANTS:
        assert mutant.name in students
    for assignment in NOTEBOOKS:
        for kind in ("solution", "untouched", "alternative"):
            assert f"{assignment}-{kind}" in students
    assert "deep-tampered" in students


def test_summary_printed_per_student_and_task(graded):
    assert "Assignment mf (10 points)" in graded.output
    assert "Assignment deep (10 points)" in graded.output
    header = next(line for line in graded.output.splitlines() if line.startswith("student") and "task1-factors" in line)
    assert header.split() == ["student", "task1-factors", "task2-optimizer", "task3-calc-loss",
                              "task4-estimate", "training", "task5-to-rating-range", "total"]
    assert re.search(r"^mf-solution\s+2/2\s+1/1\s+3/3\s+1/1\s+1/1\s+2/2\s+10/10$", graded.output, re.M)
    assert (graded.course / "grading_report.csv").exists()


def test_grades_exported_to_csv(graded):
    text = (graded.course / "grades.csv").read_text()
    assert text.splitlines()[0].startswith("assignment,duedate,timestamp,student_id")
    # nbgrader exports one line per student and assignment (0 where the student has no submission)
    assert len(text.splitlines()) == 1 + len(graded.scores) * len(NOTEBOOKS)
    assert "mf,,,mf-solution,,,,10.0,0.0,10.0,10.0" in text


@pytest.mark.parametrize("assignment", NOTEBOOKS)
@pytest.mark.parametrize("kind", ["solution", "alternative"])
def test_correct_solutions_score_full_marks(graded, assignment, kind):
    assert graded.scores[f"{assignment}-{kind}"] == POINTS[assignment]


@pytest.mark.parametrize("assignment", NOTEBOOKS)
def test_untouched_release_scores_zero(graded, assignment):
    assert graded.scores[f"{assignment}-untouched"] == {cell: 0 for cell in POINTS[assignment]}


def test_deleted_and_edited_test_cells_are_restored(graded):
    """add_missing_cells puts the deleted Task 1 test back; the edited Task 2 test is restored and catches the bug."""
    assert graded.scores["deep-tampered"] == {"task1-init-test": 5, "task2-forward-test": 0}


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_mutant_loses_exactly_its_points(graded, mutant):
    assert graded.scores[mutant.name] == mutant.expected_scores(), mutant.note


# --------------------------------------------------------------------------- feedback


def _feedback(graded: Graded, student: str, assignment: str) -> str:
    path = graded.course / "feedback" / student / assignment / NOTEBOOKS[assignment].replace(".ipynb", ".html")
    return html.unescape(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_feedback_shows_the_message_not_the_hidden_tests(graded, mutant):
    page = _feedback(graded, mutant.name, mutant.assignment)
    assert mutant.message in page
    for text in HIDDEN_SOURCE:
        assert text not in page, f"{text!r} leaked into the feedback of {mutant.name}"


@pytest.mark.parametrize("student, assignment", [("mf-solution", "mf"), ("deep-untouched", "deep"), ("mf-untouched", "mf")])
def test_feedback_of_baselines_hides_tests(graded, student, assignment):
    page = _feedback(graded, student, assignment)
    for text in HIDDEN_SOURCE:
        assert text not in page
    if student.endswith("untouched"):
        assert "not implemented yet" in page or "NotImplementedError" in page


def test_autograded_notebooks_keep_the_hidden_tests(graded):
    """The instructor's copy (autograded/) still shows what ran; only the feedback hides it."""
    nb = json.loads((graded.course / "autograded" / "mf-loss-sum" / "mf" / "mf.ipynb").read_text())
    sources = "".join("".join(c["source"]) for c in nb["cells"])
    assert "check_calc_loss(calc_loss)" in sources


# --------------------------------------------------------------------------- timing


def _execution_seconds(nb: dict) -> float:
    stamps = []
    for cell in nb["cells"]:
        execution = cell.get("metadata", {}).get("execution", {})
        for key in ("iopub.execute_input", "shell.execute_reply"):
            if key in execution:
                stamps.append(datetime.fromisoformat(execution[key].replace("Z", "+00:00")))
    assert stamps, "no execution timing recorded"
    return (max(stamps) - min(stamps)).total_seconds()


@pytest.mark.parametrize("assignment", NOTEBOOKS)
def test_solution_notebook_runs_within_a_minute(graded, assignment):
    nb = json.loads((graded.course / "autograded" / f"{assignment}-solution" / assignment / NOTEBOOKS[assignment]).read_text())
    seconds = _execution_seconds(nb)
    print(f"{assignment}: solution notebook executed in {seconds:.1f} s (cells, without kernel start)")
    assert seconds <= 60
