"""Cases of the assignment ``mf``: correct answers in other styles (full marks) and realistic mistakes.

Each mistake costs exactly its own task, with a message that names it (see notebook_cases.Case).
"""

from __future__ import annotations

from notebook_cases import Case

LOSS = "    squared_error = exist * (true_r - est_r) ** 2\n    return squared_error.sum() / exist.sum()"

CASES = (
    Case("mf-solution", "mf", "the instructor's solution"),
    Case("mf-loss-all-cells", "mf", "loss averaged over all cells (the original notebook's bug)",
         edits=(("task3-calc-loss", LOSS, "    squared_error = exist * (true_r - est_r) ** 2\n    return squared_error.mean()"),),
         expected={"task3-calc-loss-test": 0}, message="averages over all cells"),
    Case("mf-comment-mentions-reference", "mf", "a correct cell whose comment mentions recsys_ref.mf",
         edits=(("task3-calc-loss", LOSS, "    # like recsys_ref.mf.masked_mse, written myself\n" + LOSS),),
         absent_flags=("reference-used",)),
)
