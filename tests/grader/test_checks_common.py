"""grader.checks._common: what a check says when a task's record is missing.

A record is missing when the test cell never finished. When its test cell was stopped at the cell time limit
(``/tmp/fresh/course/submitted/atk_hang_in_recorder`` of 2026-11-30: ``to_rating_range`` sleeps on the grader's
inputs), the message says so, instead of blaming an earlier cell.
"""

from __future__ import annotations

import pytest

from grader.checks import Failure
from grader.checks import mf as mf_checks
from grader.checks._common import Context

T5 = "task5-to-rating-range-test"


def _message(context: Context) -> str:
    with pytest.raises(Failure) as failure:
        mf_checks.check_to_rating_range(context)
    return failure.value.message


def test_a_test_cell_stopped_at_the_time_limit_is_named_as_such():
    context = Context({}, {}, test_errors={T5: "KeyboardInterrupt: "}, task=T5)
    message = _message(context)
    assert "stopped at the time limit while it ran your code for to_rating_range" in message
    assert "an earlier cell broke the kernel" not in message
    assert "stopped at the time limit" in _message(Context({}, {}, test_errors={T5: "CellTimeoutError: 120 s"},
                                                           task=T5))


@pytest.mark.parametrize("errors, task", [
    ({}, T5),  # nothing known: the notebook stopped earlier
    ({T5: "KeyboardInterrupt: "}, "task4-estimate-test"),  # another task's cell was stopped
    ({T5: "AssertionError: the midpoint of [1, 4] is 2.5"}, T5),  # the cell failed on its own
    ({T5: "KeyboardInterrupt: "}, ""),  # the caller did not say which task is checked
])
def test_other_missing_records_keep_the_general_message(errors, task):
    message = _message(Context({}, {}, test_errors=errors, task=task))
    assert "the test cell did not run to its end" in message and "time limit" not in message


def test_score_reports_a_test_cell_stopped_at_the_time_limit():
    """grader.scoring.score passes the test cells' errors on: a record missing because its test cell hit the time
    limit is said so (not blamed on an earlier cell)."""
    from grader import scoring

    results = {r.grade_id: r for r in scoring.score(
        "mf", {}, {}, {}, {}, test_errors={"task5-to-rating-range-test": "KeyboardInterrupt: "})}
    assert "stopped at the time limit" in results["task5-to-rating-range-test"].message
    assert "did not run to its end" in results["task4-estimate-test"].message
