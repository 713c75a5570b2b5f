"""Every case of the case tables, graded through ``python -m grader`` (see conftest.py), gets its expected grade."""

from __future__ import annotations

import html

import pytest

from conftest import all_cases

pytestmark = [pytest.mark.nbgrader, pytest.mark.movielens, pytest.mark.slow]

CASES = all_cases()
HIDDEN = ("BEGIN HIDDEN TESTS", "record_factors(", "record_calc_loss(", "record_recommender_net_forward(",
          "Traceback (most recent call last)", "site-packages")


def test_the_batch_ran(batch):
    assert batch.returncode == 0, batch.output[-3000:]
    assert set(batch.rows) >= {c.name for c in CASES}, "every student must appear in grading_report.csv"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_scores(batch, case):
    assert batch.scores(case.name) == case.expected_scores(), f"{case.what}\n" + "\n".join(
        f"{r.task}: {r.score:g} {r.message}" for r in batch.rows.get(case.name, []))


@pytest.mark.parametrize("case", [c for c in CASES if c.message], ids=[c.name for c in CASES if c.message])
def test_messages(batch, case):
    messages = " ".join(r.message for r in batch.rows[case.name] if r.score < r.max_score)
    assert case.message in messages, f"{case.what}: {messages}"


@pytest.mark.parametrize("case", [c for c in CASES if c.flags or c.absent_flags],
                         ids=[c.name for c in CASES if c.flags or c.absent_flags])
def test_flags(batch, case):
    flags = batch.rows[case.name][0].flags
    kinds = {flag.split(" ")[0].rstrip(":") for flag in flags.split("; ") if flag}
    assert set(case.flags) <= kinds, f"{case.what}: expected flags {case.flags}, found {flags}"
    assert not set(case.absent_flags) & kinds, f"{case.what}: unexpected flags in {flags}"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_feedback(batch, case):
    page = batch.feedback(case)
    assert page.is_file(), f"no feedback page for {case.name}"
    text = html.unescape(page.read_text(encoding="utf-8"))
    for hidden in HIDDEN:
        assert hidden not in text, f"the feedback shows {hidden!r}"
    for row in batch.rows[case.name]:
        if row.score < row.max_score and row.status == "graded":
            assert row.message.split(": ", 1)[-1][:60] in text, f"the feedback lacks the message of {row.task}"
