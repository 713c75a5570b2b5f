"""grader.cohort: the class's summary groups failures by cause, counts tasks, draws totals, lists what to review."""

from __future__ import annotations

import re

import pytest

from grader.cohort import failure_cause, format_cohort_summary, summarize_tasks, write_cohort_summary
from grader.report import TaskScore

FACTORS, LOSS, TRAINING = "task1-factors-test", "task3-calc-loss-test", "training-test"
BOOK_LOSS = " See the book: Matrix factorization: the loss over every cell."
BOOK_FACTORS = " See the book: Matrix factorization: the latent factors."
ALL_CELLS = ("calc_loss averages over all cells: divide by the number of observed ratings (exist.sum()), not by the "
             "number of cells.")
SUM = "calc_loss returns the sum instead of the mean: divide by the number of observed ratings (exist.sum())."


def loss_message(expected: float, got: float, m: int, n: int, k: int, cause: str, dtype: str = "float32") -> str:
    """A Task 3 message as grader/checks/mf.py writes it (sizes and values differ per student)."""
    return (f"Task 3 (calc_loss): expected {expected:.4g} on a {m}x{n} example with {k} observed ratings ({dtype}), "
            f"got {got:.4g}. {cause}{BOOK_LOSS}")


def transposed(shape: tuple[int, int]) -> str:
    return (f"Task 1 (user_factors, movies_factors): expected user_factors of shape {shape}, got {shape[::-1]}. The "
            "factors are transposed: one row per factor and one column per user, so create a tensor of shape "
            f"(n_factors, n_users).{BOOK_FACTORS}")


def rows_for(student: str, factors: str = "", loss: str = "", training: str = "", *, status: str = "graded",
             flags: str = "") -> list[TaskScore]:
    """One submission of `mf`: a message means the task was lost."""
    return [TaskScore(student, "mf", "mf", task, 0.0 if message else 1.0, 1.0, message, flags, status)
            for task, message in ((FACTORS, factors), (LOSS, loss), (TRAINING, training))]


@pytest.fixture
def report() -> list[TaskScore]:
    """Ten students: four average over all cells (each on a different probe), two sum, one transposes the factors."""
    rows = []
    rows += rows_for("s01", loss=loss_message(0.8391, 0.3357, 5, 7, 12, ALL_CELLS))
    rows += rows_for("s02", loss=loss_message(2.5, 0.625, 3, 4, 5, ALL_CELLS))
    rows += rows_for("s03", loss=loss_message(1.204, 0.1338, 8, 3, 9, ALL_CELLS),
                     flags="stopped-kernel (task3-calc-loss): the kernel died while this cell (or a test of it) ran, "
                           "so the notebook was graded again without this cell")
    rows += rows_for("s04", loss=loss_message(3.75, 1.25, 4, 5, 7, ALL_CELLS, "float64"),
                     factors=transposed((3, 943)))
    rows += rows_for("s05", loss=loss_message(0.9, 10.8, 5, 7, 12, SUM),
                     flags="monkeypatch (run time): replaced torch.manual_seed, restored before the next cell")
    rows += rows_for("s06", loss=loss_message(1.5, 13.5, 8, 3, 9, SUM),
                     training="Training: expected the loss to decrease, but it went from 12.5 to 1e+03. The grader "
                              "trained your factors with your optimizer (SGD) for 30 epochs (on the 100 most active "
                              "users and 200 most rated movies): the steps are too large.")
    rows += rows_for("s07")
    rows += rows_for("s08")
    rows += [TaskScore("s09", "mf", "mf", task, 0.0, 1.0, "the notebook could not be graded: it is not valid JSON "
                       "(line 1, column 2)", status="not graded") for task in (FACTORS, LOSS, TRAINING)]
    rows += [TaskScore("s10", "mf", "mf", task, 0.0, 1.0, status="not submitted") for task in (FACTORS, LOSS, TRAINING)]
    return rows


# --------------------------------------------------------------------------- grouping by cause


def test_failure_cause_masks_what_differs_per_student_and_keeps_the_cause():
    text, book = failure_cause(loss_message(0.8391, 0.3357, 5, 7, 12, ALL_CELLS))
    assert text == f"expected … on a … example with … observed ratings (…), got …. {ALL_CELLS}"
    assert book == "Matrix factorization: the loss over every cell"
    assert failure_cause(loss_message(2.5, 0.625, 3, 4, 5, ALL_CELLS)) == (text, book)
    assert failure_cause(loss_message(2.5, 0.625, 3, 4, 5, ALL_CELLS, "float64")) == (text, book)
    assert failure_cause(loss_message(2.5, 0.625, 3, 4, 5, SUM))[0] != text


@pytest.mark.parametrize("message, expected", [
    (transposed((3, 943)), "expected user_factors of shape (…), got (…). The factors are transposed"),
    ("Task 2 (optimizer): expected a numeric learning rate, got '0.01'. Pass lr=0.01 (for example).",
     "expected a numeric learning rate, got '…'. Pass lr=… (for example)."),
    ("Task 4 (estimate): estimate raised RuntimeError: shapes torch.Size([3, 4]) and [5, 6] cannot be multiplied",
     "estimate raised RuntimeError: shapes torch.Size([…]) and […] cannot be multiplied"),
    ("Training: expected the loss to decrease, but it went from 12.5 to 1e+03.",
     "expected the loss to decrease, but it went from … to …."),
    ("Task 5 (to_rating_range): expected values from 1 to 5 for a random 4x6 float64 matrix, got nan or inf values.",
     "expected values from … to … for a random … … matrix, got nan or inf values."),
    ("Task 1 (user_factors, movies_factors): expected user_factors to hold floats, got dtype torch.int64. Gradients "
     "need a floating point tensor.", "expected user_factors to hold floats, got dtype …. Gradients need a floating"),
    ("Task 2 (net): fc1 of RecommenderNet has 33 inputs, expected 64.", "fc1 of RecommenderNet has … inputs"),
])
def test_failure_cause_on_realistic_messages(message, expected):
    assert failure_cause(message)[0].startswith(expected)


def test_tasks_count_earned_and_lost_over_graded_files_only(report):
    tasks = {t.task: t for t in summarize_tasks(report)}
    assert (tasks[LOSS].earned, tasks[LOSS].lost) == (2, 6)
    assert (tasks[FACTORS].earned, tasks[FACTORS].lost) == (7, 1)
    assert (tasks[TRAINING].earned, tasks[TRAINING].lost) == (7, 1)
    assert tasks[LOSS].title == "Task 3 (calc_loss)"
    causes = tasks[LOSS].causes
    assert [len(c.students) for c in causes] == [4, 2]  # s04 failed on a float64 probe: same cause
    assert causes[0].students == ["s01", "s02", "s03", "s04"]
    assert ALL_CELLS in causes[0].text and SUM in causes[1].text
    assert causes[0].key == f"expected … on a … example with … observed ratings (…), got …. {ALL_CELLS}"


def test_a_cause_is_shown_by_its_most_frequent_actual_message_not_the_masked_key():
    """Messages that differ only in numbers are one cause, shown as a student read it (numbers included)."""
    scaling = ("Task 3 (forward): Wrong output scaling: {what}. Map sigmoid's (0, 1) to [1, 5] with 1 + 4 * "
               "sigmoid(x). See the book: Deep recommenders: the output layer.")
    rows = rows_for("a", loss=scaling.format(what="4 * sigmoid(x) lies in (0, 4)"))
    rows += rows_for("b", loss=scaling.format(what="5 * sigmoid(x) lies in (0, 5)"))
    rows += rows_for("c", loss=scaling.format(what="5 * sigmoid(x) lies in (0, 5)"))
    (cause,) = next(t for t in summarize_tasks(rows) if t.task == LOSS).causes
    assert cause.text == ("Wrong output scaling: 5 * sigmoid(x) lies in (0, 5). Map sigmoid's (0, 1) to [1, 5] "
                          "with 1 + 4 * sigmoid(x).")
    assert (len(cause.students), cause.exact, cause.examples(2)) == (3, 2, ["b", "c"])
    text = format_cohort_summary(rows)
    assert "…" not in text
    assert ("- **3×** Wrong output scaling: 5 * sigmoid(x) lies in (0, 5). Map sigmoid's (0, 1) to [1, 5] with "
            "1 + 4 * sigmoid(x). (2 as written, 1 the same with other values: e.g. b, c, a)") in text
    assert "Most often (3, 2 word for word): Wrong output scaling: 5 * sigmoid(x) lies in (0, 5)." in text


def test_causes_most_frequent_first_whatever_came_first():
    rows = rows_for("a", loss=loss_message(0.9, 10.8, 5, 7, 12, SUM))
    rows += rows_for("b", loss=loss_message(2.5, 0.625, 3, 4, 5, ALL_CELLS))
    rows += rows_for("c", loss=loss_message(1.204, 0.1338, 8, 3, 9, ALL_CELLS))
    causes = next(t for t in summarize_tasks(rows) if t.task == LOSS).causes
    assert [(len(c.students), ALL_CELLS in c.text) for c in causes] == [(2, True), (1, False)]


# --------------------------------------------------------------------------- the markdown


def test_summary_reteach_first_lists_the_most_lost_task_with_its_cause(report):
    text = format_cohort_summary(report)
    section = text.split("## Re-teach first", 1)[1].split("##", 1)[0]
    first = section.strip().splitlines()[0]
    assert first.startswith("1. **mf: Task 3 (calc_loss)**: lost by 6 of 8 (75%).")
    assert "Most often (4, 1 word for word): expected 0.8391 on a 5x7 example with 12 observed ratings" in first


def test_summary_groups_messages_with_counts_and_examples(report):
    text = format_cohort_summary(report, examples=2)
    loss = text.split("### mf: Task 3 (calc_loss): lost by 6 of 8", 1)[1].split("###", 1)[0]
    groups = [line for line in loss.splitlines() if line.startswith("- **")]
    assert len(groups) == 2
    # Shown by an actual message (the first seen among equally frequent ones), never the masked key.
    assert groups[0].startswith("- **4×** expected 0.8391 on a 5x7 example with 12 observed ratings (float32), got "
                                "0.3357. " + ALL_CELLS)
    assert groups[0].endswith("(1 as written, 3 the same with other values: e.g. s01, s02 and 2 more)")
    assert groups[1].startswith("- **2×** expected 0.9 on a 5x7") and SUM in groups[1]
    assert "(1 as written, 1 the same with other values: e.g. s05, s06)" in groups[1]
    assert "Book: Matrix factorization: the loss over every cell" in loss
    assert "…" not in loss


def test_summary_counts_students_and_draws_the_totals(report):
    text = format_cohort_summary(report)
    assert "10 student(s): 8 graded, 1 could not be graded, 1 handed nothing in." in text
    assert "Total points (of 3): mean 2, median 2, lowest 1, highest 3." in text
    histogram = text.split("```text", 1)[1].split("```", 1)[0].strip().splitlines()
    counts = {line.split()[0]: int(line.split()[-1]) for line in histogram[1:]}
    assert counts == {"0": 0, "1": 2, "2": 4, "3": 2}
    assert re.search(r"^\| Task 3 \(calc_loss\) \| `task3-calc-loss-test` \| 1 \| 2 \| 6 \| 75% \|$", text, re.M)


def test_summary_lists_files_that_could_not_be_graded_and_every_flag(report):
    text = format_cohort_summary(report)
    failed = text.split("### Could not be graded", 1)[1].split("###", 1)[0]
    assert "- s09: the notebook could not be graded: it is not valid JSON" in failed
    flags = text.split("### Flags to review", 1)[1]
    assert "- **monkeypatch** (1 student(s)):" in flags and "- **stopped-kernel** (1 student(s)):" in flags
    assert "  - s03: stopped-kernel (task3-calc-loss): the kernel died" in flags
    assert flags.count("replaced torch.manual_seed") == 1  # the same flag on every task row is listed once


def test_fractional_totals_use_ten_bins():
    rows = [TaskScore(f"s{i}", "deep", "deep", "net-test", score, 25.0) for i, score in
            enumerate([0.0, 2.5, 12.5, 24.0, 25.0, 25.0])]
    text = format_cohort_summary(rows)
    histogram = text.split("```text", 1)[1].split("```", 1)[0].strip().splitlines()[1:]
    assert len(histogram) == 10
    assert histogram[0].split()[0] == "0-2.5" and histogram[0].endswith(" 1")
    assert histogram[-1].split()[0] == "22.5-25" and histogram[-1].endswith(" 3")


def test_message_text_is_escaped_for_markdown():
    rows = [TaskScore("s1", "mf", "mf", "t-test", 0.0, 1.0, "Task 1 (x): expected a tensor, got <class 'list'> | a")]
    text = format_cohort_summary(rows)
    assert "&lt;class 'list'&gt; \\| a" in text


def test_write_cohort_summary(tmp_path, report):
    path = write_cohort_summary(report, tmp_path / "cohort_summary.md")
    assert path.read_text(encoding="utf-8") == format_cohort_summary(report)
    assert format_cohort_summary([]).endswith("No submissions were graded.\n")
