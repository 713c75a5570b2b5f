"""A reference import in one task's answer cell costs that task only (the other tasks grade the student's own work)."""

from __future__ import annotations

import torch
from notebook_cases import run_notebook, solution_code, submission

from grader import notebooks as nbs
from grader import scoring
from grader.inspection import reference_use, scan_code

#: The fresh user's trial (atk_snoop_files): an import of the reference inside try/except, in Task 1's cell.
SNOOP = "try:\n    import recsys_ref.mf\nexcept Exception as e:\n    print('NO recsys_ref.mf', type(e).__name__)\n"


def test_a_reference_import_in_task1_costs_task1_only(tmp_path):
    answers = solution_code("mf")
    answers["task1-factors"] = SNOOP + answers["task1-factors"]
    reference = reference_use(scan_code(answers["task1-factors"], "task1-factors"))
    assert reference == {"task1-factors": "imports recsys_ref.mf, the reference implementation"}
    exchange = tmp_path / "exchange"
    (exchange / "records").mkdir(parents=True)
    nb = submission("mf", answers)
    probes = scoring.write_probes("mf", "snoop", {"nb": nb}, exchange)
    with torch.random.fork_rng(devices=[]):
        run_notebook("mf", answers, exchange)
    records = scoring.read_records(exchange / "records")
    results = {r.grade_id: r for r in scoring.score("mf", records, probes, reference, {}, dict(nbs.graded_cells(nb)))}
    assert results["task1-factors-test"].score == 0
    assert "recsys_ref.mf" in results["task1-factors-test"].message
    lost = sorted(gid for gid, r in results.items() if r.score == 0)
    assert lost == ["task1-factors-test"], {gid: results[gid].message for gid in lost}
