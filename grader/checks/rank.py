"""The checks of the assignment ``rank`` (learning to rank from implicit feedback with BPR).

Each check reads the records of :mod:`recsys_ref.grading.rank` and compares
them with the reference: :mod:`recsys_ref.implicit` (interactions, negative
sampling, the BPR loss, the model), :mod:`recsys_ref.ranking` (top-K) and
:mod:`recsys_ref.metrics.ranking` (recall@K, NDCG@K). Every task is graded on
the grader's own inputs, so a mistake costs only its own task.

What each task requires (the notebook's text states the same):

* Task 1 ``interaction_matrix(ratings, n_users, n_items, threshold=4.0)``:
  a float32 or float64 tensor ``(n_users, n_items)``, 1.0 where user id ``u + 1`` rated
  item id ``i + 1`` at least ``threshold`` (``None``: any rating), 0.0
  elsewhere; a pair rated twice is one interaction; the frame unchanged.
* Task 2 ``sample_negatives(users, interactions, generator)``: an int64
  tensor ``(B,)``; each entry an item its user has not interacted with,
  uniformly among those, every random number drawn from ``generator``. Checked
  statistically: never an interacted item, every other item drawn, a
  chi-square test of uniformity at :data:`UNIFORMITY_P` (a correct sampler
  fails it about once in a million submissions), the same negatives for the
  same seed whatever torch's global random state, other negatives for another
  seed; the arguments unchanged.
* Task 3 ``bpr_loss(positive_scores, negative_scores)``:
  :math:`-\\frac1B\\sum_b \\ln\\sigma(x_{ui} - x_{uj})` as a differentiable
  one-element tensor, finite for differences of hundreds (float32) and over a
  thousand (float64), with the right gradient; and ``l2_penalty(user_weight,
  item_weight, users, positives, negatives)``:
  :math:`\\frac1B\\sum_b (\\lVert p_{u_b}\\rVert^2 + \\lVert q_{i_b}\\rVert^2 +
  \\lVert q_{j_b}\\rVert^2)` over the batch's rows only (a repeated row counts
  each time), differentiable in both tables. Arguments unchanged.
* Task 4 ``BPRModel(n_users, n_items, n_factors=32)``: ``user_factors`` and
  ``item_factors`` are ``nn.Embedding(n_users | n_items, n_factors)`` with
  random (not constant) initial values; optionally one item bias (a
  parameter with one entry per item); no other parameter. ``score(users,
  items)`` returns ``(B,)`` floats :math:`p_u^\\top q_i (+ b_i)`, checked with
  random weights; differentiable, every parameter gets a gradient.
* Task 5 ``top_k(scores, seen, k)``: int64 ``(n_users, k)``, the best unseen
  items first, ties by lower item index, ``-1`` after the last unseen item;
  never a seen item; the arguments unchanged.
* Task 6 ``recall_at_k_per_user(top_k, held_out)`` and
  ``ndcg_at_k_per_user(top_k, held_out)``: float32 or float64 ``(n_users,)`` with
  :math:`K` = ``top_k.shape[1]``, ``NaN`` for users without held-out
  positives, ``-1`` a miss; recall divides by :math:`|\\mathcal R_u|`; NDCG
  with discount :math:`1/\\log_2(j + 1)` for ranks :math:`j = 1..K` and the
  ideal DCG of :math:`\\min(K, |\\mathcal R_u|)` hits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd
import torch
import torch.nn.functional as F

from grader.checks._common import (
    STUB_HINT,
    Context,
    Task,
    close,
    error_text,
    fail,
    fmt,
    half_precision,
    is_float_dtype,
    not_implemented,
    require_tensor,
    tensor_of,
)
from grader.checks.mf import _call_args, _no_error, _not_modified, _outcomes
from recsys_ref.grading import rank as records
from recsys_ref.grading.exchange import Bundle
from recsys_ref.implicit import interaction_matrix as reference_interactions
from recsys_ref.metrics.ranking import ndcg_at_k_per_user, recall_at_k_per_user
from recsys_ref.ranking import top_k as reference_top_k

TASK_INTERACTIONS = "Task 1 (interaction_matrix)"
TASK_NEGATIVES = "Task 2 (sample_negatives)"
TASK_BPR = "Task 3 (bpr_loss)"
TASK_L2 = "Task 3 (l2_penalty)"
TASK_MODEL = "Task 4 (BPRModel)"
TASK_TOP_K = "Task 5 (top_k)"
TASK_RECALL = "Task 6 (recall_at_k_per_user)"
TASK_NDCG = "Task 6 (ndcg_at_k_per_user)"

#: The notebook's default number of factors (the signature of BPRModel.__init__).
DEFAULT_FACTORS = 32
#: A sampler fails the uniformity test when the chi-square p-value falls below this.
UNIFORMITY_P = 1e-6


def _result(outcome: Mapping[str, Any], what: str, hint: str, book: str) -> Mapping[str, Any]:
    result = outcome.get("result")
    require_tensor(result, what, hint, book)
    return result


def _signature_kwargs(call: Mapping[str, Any]) -> str:
    return "".join(f", {name}={spec['value']!r}" for name, spec in call.get("kwargs", {}).items())


# =========================================================================== Task 1

#: (n_users, n_items, rows, threshold or "default", rating kind)
INTERACTION_CASES = (
    (4, 6, 10, "default", "stars"),
    (7, 9, 22, 3, "stars"),
    (5, 8, 16, 3.5, "half-stars"),
    (6, 5, 12, None, "stars"),
    (1, 4, 3, "default", "stars"),
    (3, 3, 0, None, "stars"),
)


def interactions_probe(generator: torch.Generator, sources: Mapping[str, str] | None = None) -> dict[str, Bundle]:
    """Rating frames with repeated pairs, users and items without ratings, the last user and item, ties at the threshold."""
    bundle = Bundle({"calls": []})

    def draw(high: int, size: int) -> torch.Tensor:
        return torch.randint(0, high, (size,), generator=generator)

    for n_users, n_items, rows, threshold, kind in INTERACTION_CASES:
        users = 1 + draw(n_users, rows)
        items = 1 + draw(n_items, rows)
        if rows >= 3:
            users[0], items[0] = n_users, n_items  # the last user and item
            users[1], items[1] = users[2], items[2]  # a pair rated twice
        if kind == "half-stars":
            ratings = 0.5 * (1 + draw(10, rows)).double()
            if rows >= 4:
                ratings[3] = float(threshold)  # exactly at the threshold
        else:
            ratings = (1 + draw(5, rows)).to(torch.int64)
            if rows >= 4:
                ratings[3] = 4 if threshold in ("default", None) else int(threshold)
        frame = {"user_id": bundle.add_tensor("t", users.to(torch.int64)),
                 "item_id": bundle.add_tensor("t", items.to(torch.int64)),
                 "rating": bundle.add_tensor("t", ratings),
                 "timestamp": bundle.add_tensor("t", 874_000_000 + draw(10_000, rows).to(torch.int64))}
        kwargs = {} if threshold == "default" else {"threshold": {"value": threshold}}
        bundle.meta["calls"].append({"args": [{"frame": frame}, {"value": n_users}, {"value": n_items}],
                                     "kwargs": kwargs, "size": [n_users, n_items, rows], "kind": kind,
                                     "threshold": 4.0 if threshold == "default" else threshold})
    return {records.INTERACTIONS: bundle}


def _frame(probe: Bundle, call: Mapping[str, Any]) -> pd.DataFrame:
    return pd.DataFrame({column: probe.tensors[name].numpy().copy() for column, name in call["args"][0]["frame"].items()})


def _dense(frame: pd.DataFrame, n_users: int, n_items: int, keep: pd.Series, value: str = "one") -> torch.Tensor:
    """A matrix built from the frame's rows where ``keep`` holds, as a common mistake would (for the diagnoses)."""
    matrix = torch.zeros(n_users, n_items, dtype=torch.float64)
    for _, row in frame[keep].iterrows():
        u, i = int(row["user_id"]) - 1, int(row["item_id"]) - 1
        matrix[u, i] = float(row["rating"]) if value == "rating" else matrix[u, i] + 1 if value == "count" else 1.0
    return matrix


def _interactions_cause(out: torch.Tensor, frame: pd.DataFrame, n_users: int, n_items: int, threshold: Any) -> str:
    ratings = frame["rating"].astype(float)
    every = pd.Series(True, index=frame.index)
    candidates = []
    if threshold is None:
        none_counts = "threshold=None means that every rating counts, whatever its value: test `threshold is None`."
        candidates += [(_dense(frame, n_users, n_items, ratings >= 4.0), none_counts),
                       (torch.zeros(n_users, n_items, dtype=torch.float64), none_counts)]
    else:
        candidates += [
            (_dense(frame, n_users, n_items, ratings > threshold),
             f"A rating equal to the threshold counts: keep ratings >= threshold ({threshold}), not > threshold."),
            (_dense(frame, n_users, n_items, every),
             f"Every rating became an interaction: keep only the ratings >= threshold ({threshold})."),
            (_dense(frame, n_users, n_items, ratings >= 4.0),
             f"The threshold is fixed at 4: use the threshold argument (here {threshold})."),
            (_dense(frame, n_users, n_items, ratings < threshold),
             "The comparison is reversed: an interaction is a rating >= threshold."),
        ]
    keep = every if threshold is None else ratings >= threshold
    candidates += [
        (_dense(frame, n_users, n_items, keep, value="count"),
         "A pair rated twice gives 2: set entries to 1 (matrix[rows, cols] = 1.0), do not add them up."),
        (_dense(frame, n_users, n_items, keep, value="rating"),
         "Store 1.0 for an interaction, not the rating."),
    ]
    for candidate, cause in candidates:
        if close(out, candidate, rtol=0, atol=1e-6):
            return cause
    return ("Entry [u, i] must be 1.0 when user id u + 1 rated item id i + 1 with a rating >= threshold, "
            "0.0 otherwise (the ids start at 1).")


def check_interactions(context: Context) -> None:
    """Task 1 (see the module docstring)."""
    book = "rank-interactions"
    record, calls = _outcomes(context, records.INTERACTIONS, "interaction_matrix",
                              "def interaction_matrix(ratings, n_users, n_items, threshold=4.0)")
    probe = context.probes[records.INTERACTIONS]
    for call, outcome in zip(probe.meta["calls"], calls):
        frame = _frame(probe, call)
        n_users, n_items, rows = call["size"]
        threshold = call["threshold"]
        text = f"interaction_matrix(ratings, {n_users}, {n_items}{_signature_kwargs(call)})"
        where = f"for {text} on a frame of {rows} ratings"
        error = outcome.get("error")
        if error:
            message = error_text(error)
            if not_implemented(error):
                cause = STUB_HINT
            elif threshold is None and "NoneType" in message:
                cause = "threshold=None means that every rating counts: test `threshold is None` before comparing."
            elif "out of bounds" in message or "index" in message.lower():
                cause = ("The ids start at 1: row u is user id u + 1 and column i is item id i + 1, so subtract 1 "
                         "from user_id and item_id; and make the matrix (n_users, n_items) from the arguments, "
                         "not from the ids in the frame.")
            else:
                cause = "Build a torch.zeros((n_users, n_items)) matrix and set the interactions to 1.0."
            fail(f"interaction_matrix raised {message} {where}. {cause}", book)
        result = _result(outcome, f"the result {where}", "Return a torch tensor (torch.zeros(...), "
                         "not a NumPy array or a DataFrame).", book)
        shape = tuple(result["shape"])
        if shape != (n_users, n_items):
            if shape == (n_items, n_users):
                cause = "The matrix is transposed: one row per user, one column per item."
            elif shape == (n_users + 1, n_items + 1):
                cause = "The ids start at 1: subtract 1 from user_id and item_id, and use (n_users, n_items)."
            else:
                cause = "Use the n_users and n_items arguments (not the largest ids in the frame)."
            fail(f"expected shape (n_users, n_items) = {(n_users, n_items)} {where}, got {shape}. {cause}", book)
        if not is_float_dtype(result) or half_precision(result):
            fail(f"expected a floating-point matrix (float32 or float64) {where}, got dtype {result['dtype']}. "
                 "Create it with torch.zeros(n_users, n_items) (float32), or convert with .float().", book)
        out = tensor_of(result, record)
        expected = reference_interactions(frame, n_users, n_items, threshold=threshold)
        if not close(out, expected, rtol=0, atol=1e-6):
            fail(f"expected {int(expected.sum())} interactions {where}, got a matrix with "
                 f"{int((out != 0).sum())} nonzero entries{'' if out.max() <= 1 else ' (some above 1)'}. "
                 f"{_interactions_cause(out, frame, n_users, n_items, threshold)}", book)
        if outcome.get("frame_modified"):
            fail(f"interaction_matrix changes the ratings frame {where} (a column, its type, or a new column): the "
                 "notebook's train and test frames must stay as they are. Compute from the columns without "
                 "assigning to them, e.g. users = ratings['user_id'].to_numpy() - 1.", book)


# =========================================================================== Task 2

#: Draws per unseen item (about) in the statistical calls: with 30 expected draws per item, a correct sampler
#: draws every item (the chance to miss one is e^-30 per item) and the chi-square test is accurate.
DRAWS_PER_ITEM = 30


def _sampling_matrix(generator: torch.Generator, n_users: int, n_items: int, counts: list[int] | None) -> torch.Tensor:
    """``counts[u]`` interactions of each user (random counts when None), popular items much more often than
    others (as in real data), so that a sampler that favours or avoids popular items is far from uniform."""
    matrix = torch.zeros(n_users, n_items)
    popularity = (torch.arange(n_items, 0, -1, dtype=torch.float64) ** 2)[torch.randperm(n_items, generator=generator)]
    for user in range(n_users):
        count = counts[user] if counts else int(torch.randint(1, n_items - 1, (1,), generator=generator))
        if count:
            matrix[user, torch.multinomial(popularity, count, replacement=False, generator=generator)] = 1.0
    return matrix


def negatives_probe(generator: torch.Generator, sources: Mapping[str, str] | None = None) -> dict[str, Bundle]:
    """Two interaction matrices (one hand-shaped: a user with no interaction, one with a single unseen item),
    large shuffled batches for the statistics, a pair of calls with one generator seed under two global seeds,
    a call with another seed, and a batch of one."""
    bundle = Bundle({"calls": [], "matrices": []})
    small = _sampling_matrix(generator, 6, 10, [0, 1, 3, 5, 9, 2])
    wide = _sampling_matrix(generator, 8, 25, None)

    def seed() -> int:
        return int(torch.randint(0, 2**31 - 1, (1,), generator=generator))

    for matrix in (small, wide):
        name = bundle.add_tensor("t", matrix)
        bundle.meta["matrices"].append(name)
        unseen = (matrix == 0).sum(dim=1)
        users = torch.repeat_interleave(torch.arange(matrix.shape[0]), DRAWS_PER_ITEM * unseen)
        users = users[torch.randperm(len(users), generator=generator)]
        bundle.meta["calls"].append({"args": [{"tensor": bundle.add_tensor("t", users)}, {"tensor": name},
                                              {"generator": seed()}], "seed": seed(), "role": "statistics",
                                     "matrix": name})
    name = bundle.meta["matrices"][1]
    users = torch.randint(0, wide.shape[0], (64,), generator=generator)
    users_name, same = bundle.add_tensor("t", users), seed()
    for role, generator_seed in (("same-seed", same), ("same-seed-again", same), ("other-seed", seed())):
        bundle.meta["calls"].append({"args": [{"tensor": users_name}, {"tensor": name}, {"generator": generator_seed}],
                                     "seed": seed(), "role": role, "matrix": name})
    single = torch.tensor([4])  # the user of the small matrix with a single item left to sample
    bundle.meta["calls"].append({"args": [{"tensor": bundle.add_tensor("t", single)},
                                          {"tensor": bundle.meta["matrices"][0]}, {"generator": seed()}],
                                 "seed": seed(), "role": "single", "matrix": bundle.meta["matrices"][0]})
    return {records.NEGATIVES: bundle}


def uniformity_p_value(users: list[torch.Tensor], drawn: list[torch.Tensor], matrices: list[torch.Tensor]) -> float:
    """The chi-square p-value of the hypothesis that each user's draws are uniform over their unseen items.

    ``users``, ``drawn`` and ``matrices`` are lists over calls (one matrix per call); the statistic sums over
    every (call, user) with more than one unseen item, its degrees of freedom are the number of unseen items
    minus one, per user. Draws must already be known to be unseen items.
    """
    from scipy.stats import chi2

    statistic, dof = 0.0, 0
    for u, d, matrix in zip(users, drawn, matrices):
        n_users, n_items = matrix.shape
        counts = torch.bincount(u * n_items + d, minlength=n_users * n_items).reshape(n_users, n_items).double()
        unseen = matrix == 0
        for user in range(n_users):
            m = int(unseen[user].sum())
            n = float(counts[user].sum())
            if m < 2 or n == 0:
                continue
            expected = n / m
            statistic += float(((counts[user][unseen[user]] - expected) ** 2).sum() / expected)
            dof += m - 1
    return 1.0 if dof == 0 else float(chi2.sf(statistic, dof))


def check_negatives(context: Context) -> None:
    """Task 2 (see the module docstring)."""
    book = "rank-sampling"
    record, calls = _outcomes(context, records.NEGATIVES, "sample_negatives",
                              "def sample_negatives(users, interactions, generator)")
    probe = context.probes[records.NEGATIVES]
    seen_calls: list[dict[str, Any]] = []
    for call, outcome in zip(probe.meta["calls"], calls):
        users, matrix = _call_args(probe, {"args": call["args"][:2]})
        n_users, n_items = matrix.shape
        where = f"for a batch of {len(users)} users of a {n_users} x {n_items} interaction matrix"
        error = outcome.get("error")
        if error:
            message = error_text(error)
            if not_implemented(error):
                cause = STUB_HINT
            elif error.get("type") == "SamplerTimeout":
                cause = ("A rejection loop that never ends: can every item a user has not interacted with be drawn? "
                         "torch.randint(low, high) draws up to high - 1, so use torch.randint(0, n_items, ...); a "
                         "user may have a single such item.")
            elif "generator" in message.lower():
                cause = "Pass the generator to torch's random functions: generator=generator."
            else:
                cause = ("Draw each entry among the items with interactions[users[b]] == 0 (e.g. torch.multinomial "
                         "on 1 - interactions[users], or torch.randint with rejection of interacted items).")
            fail(f"sample_negatives raised {message} {where}. {cause}", book)
        result = _result(outcome, f"the result {where}", "Return a torch tensor of item indices.", book)
        shape = tuple(result["shape"])
        if shape != (len(users),):
            cause = (" torch.multinomial returns (B, 1): take [:, 0] or .squeeze(1)." if shape == (len(users), 1)
                     else " Return one item index per entry of users.")
            fail(f"expected shape (B,) = {(len(users),)} {where}, got {shape}.{cause}", book)
        if result["dtype"] != "torch.int64":
            fail(f"expected item indices of dtype torch.int64 (long) {where}, got {result['dtype']}. Return integer "
                 "indices (torch.randint and torch.multinomial give int64; or convert with .long()).", book)
        items = tensor_of(result, record)
        outside = (items < 0) | (items >= n_items)
        if bool(outside.any()):
            fail(f"expected item indices from 0 to {n_items - 1} {where}, got {int(items[outside][0])}. Items are "
                 "0-based column indices of the interaction matrix.", book)
        positives = matrix[users, items] > 0
        if bool(positives.any()):
            b = int(positives.nonzero()[0])
            fail(f"expected only items the user has not interacted with {where}, but {int(positives.sum())} of "
                 f"{len(users)} negatives are positives (e.g. item {int(items[b])} for user {int(users[b])}, where "
                 "interactions is 1). Draw among the items with interactions[user] == 0 only: reject and redraw "
                 "the others, or sample from the unseen items directly.", book)
        seen_calls.append({"role": call["role"], "users": users, "items": items, "matrix": matrix})
    by_role = {call["role"]: call for call in seen_calls}
    first, again, other = by_role["same-seed"], by_role["same-seed-again"], by_role["other-seed"]
    if not torch.equal(first["items"], again["items"]):
        fail("expected the same negatives from two generators with the same seed, but they differ: the sampler "
             "uses torch's global random state (or another source). Draw every random number from the "
             "generator argument: torch.randint(..., generator=generator), torch.rand(..., generator=generator), "
             "torch.multinomial(..., generator=generator).", book)
    if torch.equal(first["items"], other["items"]):
        fail("expected other negatives from a generator with another seed, but they are the same: the sampler "
             "ignores the generator it is given (a fixed seed, or no randomness). Draw every random number from "
             "the generator argument.", book)
    statistics = [call for call in seen_calls if call["role"] == "statistics"]
    for call in statistics:
        users, items, matrix = call["users"], call["items"], call["matrix"]
        n_users, n_items = matrix.shape
        missing = {}
        for user in range(n_users):
            unseen = set((matrix[user] == 0).nonzero().flatten().tolist())
            never = sorted(unseen - set(items[users == user].tolist()))
            if never:
                missing[user] = (never, max(unseen), len(unseen))
        if missing:
            user, (never, last, m) = next(iter(missing.items()))
            n = int((users == user).sum())
            if all(items_never == [largest] for items_never, largest, _ in missing.values()):
                cause = ("The last of a user's items is never drawn: an upper bound one too low. torch.randint(low, "
                         "high) draws up to high - 1, so use torch.randint(0, n_items, ...) or "
                         "torch.randint(0, len(candidates), ...).")
            else:
                cause = "Every item the user has not interacted with must be possible."
            fail(f"expected every item a user has not interacted with to be drawn, but in {n} draws for a user "
                 f"with {m} such items (about {n // m} draws of each expected), item {never[0]} never came up. "
                 f"{cause}", book)
    p = uniformity_p_value([c["users"] for c in statistics], [c["items"] for c in statistics],
                           [c["matrix"] for c in statistics])
    if p < UNIFORMITY_P:
        fail(f"expected each user's negatives to be uniform over the items they have not interacted with, but the "
             f"frequencies are far from uniform (chi-square test, p = {p:.2g}, over "
             f"{sum(len(c['users']) for c in statistics)} draws). Give each of those items the same chance, "
             "e.g. torch.multinomial(1 - interactions[users], 1, generator=generator), or torch.randint over all "
             "items with rejection of interacted ones.", book)
    for outcome in calls:
        _not_modified(outcome, ("users", "interactions"), "sample_negatives", "on the grader's batches", book)


# =========================================================================== Task 3: bpr_loss

#: (batch, dtype, spread of the scores, kind): normal scores first, then differences where log(sigmoid) fails.
BPR_CASES = ((5, "float32", 3.0, "normal"), (1, "float32", 3.0, "normal"), (64, "float64", 3.0, "normal"),
             (7, "float32", 150.0, "extreme"), (6, "float64", 1000.0, "extreme"))


def bpr_probe(generator: torch.Generator, sources: Mapping[str, str] | None = None) -> dict[str, Bundle]:
    """Scores of several batch sizes and dtypes; then differences of hundreds (float32) and thousands (float64)."""
    bundle = Bundle({"calls": []})
    for batch, dtype, spread, kind in BPR_CASES:
        positive = spread * torch.randn(batch, generator=generator, dtype=torch.float64)
        negative = spread * torch.randn(batch, generator=generator, dtype=torch.float64)
        if kind == "extreme":
            signs = torch.where(torch.arange(batch) % 2 == 0, -1.0, 1.0).double()
            positive = signs * spread * (1.0 + torch.rand(batch, generator=generator, dtype=torch.float64))
            negative = -positive / 2
        bundle.meta["calls"].append({"args": [{"tensor": bundle.add_tensor("t", positive), "dtype": dtype, "requires_grad": True},
                                              {"tensor": bundle.add_tensor("t", negative), "dtype": dtype, "requires_grad": True}],
                                     "backward": True, "batch": batch, "dtype": dtype, "kind": kind})
    return {records.BPR_LOSS: bundle}


def _as_dtype(x: torch.Tensor, dtype: str) -> torch.Tensor:
    return x.to(getattr(torch, dtype)).to(torch.float64)


def _bpr_cause(value: float, pos: torch.Tensor, neg: torch.Tensor) -> str:
    d = pos - neg
    candidates = [
        (float(-F.logsigmoid(-d).mean()), "The sign of the difference is swapped: the positive item must score above "
         "the negative, so use x_ui - x_uj = positive_scores - negative_scores."),
        (float(F.logsigmoid(d).mean()), "The minus sign is missing: the loss is -mean(log sigmoid(x_ui - x_uj)), "
         "which is positive and falls as the positives score higher."),
        (float(-F.logsigmoid(d).sum()), "The loss is summed: take the mean over the batch."),
        (float(-torch.sigmoid(d).mean()), "The logarithm is missing: -mean(log sigmoid(x_ui - x_uj))."),
        (float((1 - torch.sigmoid(d)).mean()), "The logarithm is missing: -mean(log sigmoid(x_ui - x_uj))."),
        (float(-torch.log(torch.sigmoid(d) + 1e-10).mean()), "log(sigmoid(x) + eps) is not the loss for large "
         "differences: use F.logsigmoid(x), which is exact and finite everywhere."),
        (float(-torch.log(torch.sigmoid(d) + 1e-8).mean()), "log(sigmoid(x) + eps) is not the loss for large "
         "differences: use F.logsigmoid(x), which is exact and finite everywhere."),
    ]
    for candidate, cause in candidates:
        if math.isfinite(candidate) and math.isclose(value, candidate, rel_tol=1e-4, abs_tol=1e-6):
            return cause
    return "Compute -mean(F.logsigmoid(positive_scores - negative_scores))."


def check_bpr_loss(context: Context) -> None:
    """Task 3, bpr_loss (see the module docstring)."""
    book = "rank-bpr"
    record, calls = _outcomes(context, records.BPR_LOSS, "bpr_loss", "def bpr_loss(positive_scores, negative_scores)")
    probe = context.probes[records.BPR_LOSS]
    for call, outcome in zip(probe.meta["calls"], calls):
        pos, neg = (_as_dtype(x, call["dtype"]) for x in _call_args(probe, call))
        d = pos - neg
        where = (f"on a batch of {call['batch']} {call['dtype']} scores"
                 + (f" with differences x_ui - x_uj from {fmt(float(d.min()))} to {fmt(float(d.max()))}"
                    if call["kind"] == "extreme" else ""))
        _no_error(outcome, "bpr_loss", where, "Use torch operations on the two (B,) tensors.", book)
        result = _result(outcome, f"the loss {where}", "Return the tensor itself (not .item()), so that "
                         "loss.backward() can compute gradients.", book)
        if math.prod(result["shape"]) != 1:
            fail(f"expected a single number (a tensor with one element) {where}, got a tensor of shape "
                 f"{tuple(result['shape'])}. Take the mean over the batch.", book)
        value = float(tensor_of(result, record).reshape(()))
        expected = float(-F.logsigmoid(d).mean())
        if not math.isfinite(value):
            fail(f"expected a finite loss {where}, got {value}: torch.log(torch.sigmoid(x)) overflows, because "
                 f"sigmoid(x) rounds to 0 for x below about {-88 if call['dtype'] == 'float32' else -745} in "
                 f"{call['dtype']} and log(0) is -inf. Use F.logsigmoid(x), which computes log sigmoid(x) stably "
                 "(or -F.softplus(-x)).", book)
        if not math.isclose(value, expected, rel_tol=1e-4, abs_tol=1e-5):
            fail(f"expected {fmt(expected)} {where}, got {fmt(value)}. {_bpr_cause(value, pos, neg)}", book)
        if not result["requires_grad"] or not result["has_grad_fn"]:
            fail(f"expected a differentiable loss {where}, but it has no gradient. Build it with torch operations "
                 "on the scores, without .item(), .detach() or torch.tensor(...).", book)
        weights = torch.sigmoid(-d) / call["batch"]
        for position, (name, wanted) in enumerate((("positive_scores", -weights), ("negative_scores", weights))):
            grad = outcome.get("grads", {}).get(str(position))
            if not grad or grad.get("kind") != "tensor" or not close(tensor_of(grad, record), wanted,
                                                                       rtol=1e-3, atol=1e-7):
                found = ("no gradient" if not grad or grad.get("kind") != "tensor"
                         else "nan or inf values" if not torch.isfinite(tensor_of(grad, record)).all()
                         else "other values")
                fail(f"expected the gradient of the loss with respect to {name} to be "
                     f"{'-' if position == 0 else '+'}sigmoid(x_uj - x_ui) / B {where}, got {found}. Use "
                     "F.logsigmoid, whose gradient is exact even where sigmoid rounds to 0 or 1.", book)
        _not_modified(outcome, ("positive_scores", "negative_scores"), "bpr_loss", where, book)


# =========================================================================== Task 3: l2_penalty

#: (n_users, n_items, n_factors, batch, dtype)
L2_CASES = ((5, 7, 3, 4, "float32"), (6, 9, 4, 10, "float64"), (3, 4, 2, 1, "float32"), (8, 12, 5, 16, "float32"))


def l2_probe(generator: torch.Generator, sources: Mapping[str, str] | None = None) -> dict[str, Bundle]:
    """Tables of several sizes; batches with repeated users and items, positives that are also negatives, B = 1."""
    bundle = Bundle({"calls": []})
    for n_users, n_items, d, batch, dtype in L2_CASES:
        p = torch.randn(n_users, d, generator=generator, dtype=torch.float64)
        q = torch.randn(n_items, d, generator=generator, dtype=torch.float64)
        users = torch.randint(0, n_users, (batch,), generator=generator)
        positives = torch.randint(0, n_items, (batch,), generator=generator)
        negatives = torch.randint(0, n_items, (batch,), generator=generator)
        if batch > 2:
            users[1] = users[0]
            negatives[2] = positives[0]
        bundle.meta["calls"].append({
            "args": [{"tensor": bundle.add_tensor("t", p), "dtype": dtype, "requires_grad": True},
                     {"tensor": bundle.add_tensor("t", q), "dtype": dtype, "requires_grad": True},
                     {"tensor": bundle.add_tensor("t", users)}, {"tensor": bundle.add_tensor("t", positives)},
                     {"tensor": bundle.add_tensor("t", negatives)}],
            "backward": True, "size": [n_users, n_items, d, batch], "dtype": dtype})
    return {records.L2_PENALTY: bundle}


def reference_l2(p: torch.Tensor, q: torch.Tensor, users: torch.Tensor, positives: torch.Tensor,
                 negatives: torch.Tensor) -> torch.Tensor:
    """The specified penalty (``recsys_ref.implicit.batch_l2`` on the batch's rows)."""
    from recsys_ref.implicit import batch_l2

    return batch_l2(p[users], q[positives], q[negatives])


def _l2_cause(value: float, p, q, users, positives, negatives) -> str:
    b, d = len(users), p.shape[1]
    rows = (p[users].square().sum(), q[positives].square().sum(), q[negatives].square().sum())
    whole = float(p.square().sum() + q.square().sum())
    unique = float(p[users.unique()].square().sum() + q[positives.unique()].square().sum()
                   + q[negatives.unique()].square().sum())
    candidates = [
        (whole / b, "The penalty covers the whole tables: take only the rows the batch uses, user_weight[users], "
                    "item_weight[positives] and item_weight[negatives]."),
        (whole, "The penalty covers the whole tables: take only the rows the batch uses, user_weight[users], "
                "item_weight[positives] and item_weight[negatives], and divide by B."),
        (whole / (p.numel() + q.numel()), "The penalty covers the whole tables: take only the rows the batch uses."),
        (float(sum(rows)), "The sum is not divided by the batch size B: divide by len(users)."),
        (float(sum(rows)) / (b * d), "Dividing by B * n_factors (the mean over entries) is not the penalty: sum the "
                                     "squared entries of the rows, then divide by B only."),
        (float(sum(r for r in (p[users].square().mean(), q[positives].square().mean(), q[negatives].square().mean()))),
         "Dividing by B * n_factors (the mean over entries) is not the penalty: sum the squared entries of the "
         "rows, then divide by B only."),
        (float(p[users].norm(dim=1).sum() + q[positives].norm(dim=1).sum() + q[negatives].norm(dim=1).sum()) / b,
         "The norms are not squared: use the sum of squared entries, row.pow(2).sum()."),
        (float(p[users].norm() + q[positives].norm() + q[negatives].norm()) / b,
         "The norms are not squared: use the sum of squared entries, row.pow(2).sum()."),
        (unique / b, "A row used several times in the batch counts each time: do not take unique indices."),
        (float(rows[0] + rows[1]) / b, "The negatives' rows are missing: add item_weight[negatives]."),
        (float(rows[1] + rows[2]) / b, "The users' rows are missing: add user_weight[users]."),
        (float(rows[0]) / b, "The items' rows are missing: add item_weight[positives] and item_weight[negatives]."),
    ]
    for candidate, cause in candidates:
        if math.isclose(value, candidate, rel_tol=1e-4, abs_tol=1e-6):
            return cause
    return ("Compute (user_weight[users].pow(2).sum() + item_weight[positives].pow(2).sum() + "
            "item_weight[negatives].pow(2).sum()) / len(users).")


def check_l2_penalty(context: Context) -> None:
    """Task 3, l2_penalty (see the module docstring)."""
    book = "rank-bpr"
    record, calls = _outcomes(context, records.L2_PENALTY, "l2_penalty",
                              "def l2_penalty(user_weight, item_weight, users, positives, negatives)")
    probe = context.probes[records.L2_PENALTY]
    for call, outcome in zip(probe.meta["calls"], calls):
        p, q, users, positives, negatives = _call_args(probe, call)
        p, q = _as_dtype(p, call["dtype"]), _as_dtype(q, call["dtype"])
        n_users, n_items, d, b = call["size"]
        where = (f"for tables of {n_users} users and {n_items} items with {d} factors ({call['dtype']}) and a batch "
                 f"of {b}")
        _no_error(outcome, "l2_penalty", where, "Index the tables with the batch's indices (user_weight[users]) "
                  "and use torch operations.", book)
        result = _result(outcome, f"the penalty {where}", "Return the tensor itself (not .item()).", book)
        if math.prod(result["shape"]) != 1:
            fail(f"expected a single number (a tensor with one element) {where}, got a tensor of shape "
                 f"{tuple(result['shape'])}. Sum every squared entry of the rows, then divide by B.", book)
        value = float(tensor_of(result, record).reshape(()))
        wanted_p, wanted_q = p.clone().requires_grad_(), q.clone().requires_grad_()
        penalty = reference_l2(wanted_p, wanted_q, users, positives, negatives)
        penalty.backward()
        expected = float(penalty.detach())
        if not math.isclose(value, expected, rel_tol=1e-4, abs_tol=1e-6):
            fail(f"expected {fmt(expected)} {where}, got {fmt(value)}. "
                 f"{_l2_cause(value, p, q, users, positives, negatives)}", book)
        if not result["requires_grad"] or not result["has_grad_fn"]:
            fail(f"expected a differentiable penalty {where}, but it has no gradient: build it with torch operations "
                 "on the two tables, without .item(), .detach() or .data.", book)
        for position, (name, wanted) in enumerate((("user_weight", wanted_p.grad), ("item_weight", wanted_q.grad))):
            grad = outcome.get("grads", {}).get(str(position))
            if not grad or grad.get("kind") != "tensor" or not close(tensor_of(grad, record), wanted, rtol=1e-4,
                                                                       atol=1e-6):
                fail(f"expected the gradient of the penalty with respect to {name} {where} to be 2 x row / B on "
                     "each row the batch uses (once per use) and 0 elsewhere, but it differs. Compute the penalty "
                     "from the tables with torch operations (no .detach() or .data).", book)
        _not_modified(outcome, ("user_weight", "item_weight", "users", "positives", "negatives"), "l2_penalty",
                      where, book)


# =========================================================================== Task 4

#: (n_users, n_items, n_factors or None for the default); n_users != n_items except the last.
MODEL_CONFIGS = ((6, 9, 4), (11, 5, 3), (1, 7, 2), (5, 13, None), (8, 8, 6))
MODEL_BATCH = 12


def model_probe(generator: torch.Generator, sources: Mapping[str, str] | None = None) -> dict[str, Bundle]:
    """Configurations (one user; the default n_factors; as many users as items), a batch with repeats and the
    last rows, and a single pair."""
    bundle = Bundle({"configs": []})
    for index, (n_users, n_items, n_factors) in enumerate(MODEL_CONFIGS):
        users = torch.randint(0, n_users, (MODEL_BATCH,), generator=generator)
        items = torch.randint(0, n_items, (MODEL_BATCH,), generator=generator)
        users[0], items[0] = n_users - 1, n_items - 1
        users[1], items[2] = users[3], items[3]
        single_user = torch.randint(0, n_users, (1,), generator=generator)
        single_item = torch.randint(0, n_items, (1,), generator=generator)
        calls = [{"users": {"tensor": bundle.add_tensor("t", users)}, "items": {"tensor": bundle.add_tensor("t", items)}},
                 {"users": {"tensor": bundle.add_tensor("t", single_user)},
                  "items": {"tensor": bundle.add_tensor("t", single_item)}}]
        kwargs = {} if n_factors is None else {"n_factors": n_factors}
        call = f"BPRModel({n_users}, {n_items}" + ("" if n_factors is None else f", n_factors={n_factors}") + ")"
        bundle.meta["configs"].append({"n_users": n_users, "n_items": n_items, "kwargs": kwargs, "call": call,
                                       "n_factors": n_factors or DEFAULT_FACTORS, "seed": 30 + index,
                                       "weight_seed": int(torch.randint(0, 2**31 - 1, (1,), generator=generator)),
                                       "calls": calls})
    return {records.MODEL: bundle}


def _embedding(facts: Mapping[str, Any], name: str, rows: int, d: int, what: str, one: str, call: str) -> None:
    attribute = facts["attributes"].get(name) or {}
    book = "rank-model"
    if attribute.get("kind") == "none" or not attribute:
        fail(f"expected {call} to have an attribute {name}, an nn.Embedding({what}, n_factors); it has none. Define "
             f"self.{name} = nn.Embedding({what}, n_factors) in __init__.", book)
    if attribute.get("kind") == "error":
        fail(f"reading {name} of {call} raised {error_text(attribute)}.", book)
    if attribute.get("kind_of") != "module" or attribute.get("kind") != "Embedding":
        fail(f"expected {name} of {call} to be an nn.Embedding, got a {attribute.get('type')}. Use "
             f"self.{name} = nn.Embedding({what}, n_factors).", book)
    found = (attribute["num_embeddings"], attribute["embedding_dim"])
    if found != (rows, d):
        if found == (rows, DEFAULT_FACTORS) and d != DEFAULT_FACTORS:
            cause = "Use the n_factors argument, not a fixed number of factors."
        elif found[0] != rows:
            cause = f"One row per {one}: nn.Embedding({what}, n_factors)."
        else:
            cause = f"Use n_factors = {d} columns."
        fail(f"expected {name} of {call} to be nn.Embedding({rows}, {d}), got nn.Embedding{found}. {cause}", book)


def _model_cause(out: torch.Tensor, p: torch.Tensor, q: torch.Tensor, bias: torch.Tensor | None,
                 users: torch.Tensor, items: torch.Tensor) -> str:
    dot = (p[users] * q[items]).sum(-1)
    full = dot + (bias[items] if bias is not None else 0.0)
    candidates = [
        (torch.sigmoid(full), "score returns sigmoid(x_ui): return the raw score x_ui; the loss applies the sigmoid."),
        (torch.sigmoid(dot), "score returns sigmoid(x_ui): return the raw score x_ui; the loss applies the sigmoid."),
    ]
    if bias is not None:
        candidates.append((dot, "score ignores your item bias: add item_bias of the items to the dot product "
                                "(or remove the bias from the model)."))
        if len(bias) > int(users.max()):
            candidates.append((dot + bias[users], "score adds the bias of the users' indices: use the items' biases, "
                                                  "item_bias(items)."))
    if q.shape[0] > int(users.max()) and p.shape[0] > int(items.max()):
        candidates.append(((q[users] * p[items]).sum(-1) + (bias[items] if bias is not None else 0.0),
                           "The tables are swapped: users index user_factors and items index item_factors."))
    for candidate, cause in candidates:
        if close(out, candidate):
            return cause
    return "Entry b must be the dot product of user_factors(users)[b] and item_factors(items)[b] (plus the item bias)."


def _check_model_config(facts: Mapping[str, Any], config: Mapping[str, Any], probe: Bundle, record: Bundle) -> None:
    book = "rank-model"
    call, n_users, n_items, d = config["call"], config["n_users"], config["n_items"], config["n_factors"]
    error = facts.get("error")
    if error:
        fail(f"{call} raised {error_text(error)}. {STUB_HINT if not_implemented(error) else 'Build the embeddings from the arguments.'}",
             book)
    if not facts.get("is_module"):
        fail(f"expected {call} to be an nn.Module, got a {facts.get('type')}. Keep class BPRModel(nn.Module).", book)
    _embedding(facts, "user_factors", n_users, d, "n_users", "user", call)
    _embedding(facts, "item_factors", n_items, d, "n_items", "item", call)
    parameters = {p["name"]: p for p in facts["parameters"]}
    for name in ("user_factors.weight", "item_factors.weight"):
        spread = parameters[name]["initial"]
        if not spread["finite"] or spread["std"] == 0.0:
            fail(f"expected random initial values in {name.split('.')[0]} of {call}, but they are "
                 f"{'nan or inf' if not spread['finite'] else 'all equal'}. With constant factors every user and "
                 "item get the same gradient (with zeros, none at all) and never become different: keep "
                 "nn.Embedding's random initialisation, or use nn.init.normal_(weight, std=0.1).", book)
    others = [p for name, p in parameters.items() if name not in ("user_factors.weight", "item_factors.weight")]
    if len(others) > 1 or (others and math.prod(others[0]["shape"]) != n_items):
        listed = ", ".join(f"{p['name']} {tuple(p['shape'])}" for p in others)
        fail(f"expected the parameters of {call} to be user_factors, item_factors and optionally one item bias with "
             f"one entry per item ({n_items}), but it also has {listed}. Remove the other parameters (a user bias "
             "does not change a user's ranking).", book)
    bias_name = others[0]["name"] if others else None
    if not facts.get("has_score"):
        fail(f"expected {call} to have a method score(users, items); it has none. Define def score(self, users, "
             "items) in the class.", book)
    weights = {name: record.tensors[tensor] for name, tensor in facts["weights"].items()}
    p, q = weights["user_factors.weight"], weights["item_factors.weight"]
    bias = weights[bias_name].reshape(-1) if bias_name else None
    for probe_call, outcome in zip(config["calls"], facts["scores"]):
        users, items = probe.tensors[probe_call["users"]["tensor"]], probe.tensors[probe_call["items"]["tensor"]]
        where = f"for {call}.score on a batch of {len(users)} (user, item) pairs, with random weights"
        error = outcome.get("error")
        if error:
            message = error_text(error)
            cause = (STUB_HINT if not_implemented(error) else
                     "Look users up in user_factors and items in item_factors." if "index out of range" in message
                     else "Multiply the two (B, n_factors) embeddings elementwise and sum over the factors.")
            fail(f"score raised {message} {where}. {cause}", book)
        result = _result(outcome, f"the scores {where}", "Return a tensor of scores.", book)
        shape = tuple(result["shape"])
        b = len(users)
        if shape != (b,):
            if shape == (b, b):
                cause = ("@ scores every user with every item of the batch: multiply elementwise and sum over the "
                         "factors, (p * q).sum(dim=1).")
            elif shape == (b, d):
                cause = "Sum the elementwise product over the factors: (p * q).sum(dim=1)."
            elif shape == (b, 1):
                cause = "Remove the last dimension (squeeze the item bias, nn.Embedding(n_items, 1) gives (B, 1))."
            elif math.prod(shape) == 1:
                cause = "Sum over the factors only (dim=1), not over the whole batch."
            else:
                cause = "Return one score per (user, item) pair."
            fail(f"expected scores of shape (B,) = {(b,)} {where}, got {shape}. {cause}", book)
        if not is_float_dtype(result):
            fail(f"expected floating-point scores {where}, got dtype {result['dtype']}.", book)
        out = tensor_of(result, record)
        expected = (p[users] * q[items]).sum(-1) + (bias[items] if bias is not None else 0.0)
        if not close(out, expected, rtol=1e-4, atol=1e-4):
            fail(f"expected p_u . q_i{' + b_i' if bias is not None else ''} {where}, got other values. "
                 f"{_model_cause(out, p, q, bias, users, items)}", book)
        if not result["requires_grad"] or not result["has_grad_fn"]:
            fail(f"expected differentiable scores {where}, but they have no gradient: score detaches them "
                 "(.detach(), .data, torch.no_grad() or .item()), so training cannot update the embeddings.", book)
        missing = [name for name in parameters if (outcome.get("grads", {}).get(name) or {}).get("kind") != "tensor"]
        if missing:
            fail(f"expected every parameter to get a gradient from score {where}, but {missing[0]} got none: score "
                 "does not use it (or detaches it).", book)
        _not_modified(outcome, ("users", "items"), "score", where, book)


def check_model(context: Context) -> None:
    """Task 4 (see the module docstring)."""
    record = context.record(records.MODEL, "BPRModel")
    if not record.meta.get("is_module_class"):
        fail(f"expected BPRModel to be a class derived from nn.Module, got {record.meta.get('type')}.", "rank-model")
    configs = context.probes[records.MODEL].meta["configs"]
    if len(record.meta["configs"]) != len(configs):
        fail("the grader's test of BPRModel did not finish (the kernel stopped during it).")
    for config, facts in zip(configs, record.meta["configs"]):
        _check_model_config(facts, config, context.probes[records.MODEL], record)


# =========================================================================== Task 5

#: (n_users, n_items, k, dtype, score kind)
TOP_K_CASES = ((5, 10, 3, "float32", "ties"), (4, 7, 1, "float32", "ties"), (6, 12, 5, "float64", "ties"),
               (3, 4, 6, "float32", "ties"), (7, 20, 10, "float32", "continuous"), (4, 9, 4, "float32", "ties"))


def top_k_probe(generator: torch.Generator, sources: Mapping[str, str] | None = None) -> dict[str, Bundle]:
    """Score matrices with many ties and negative scores; users with no, one or fewer than k unseen items;
    k = 1 and k above the number of items."""
    bundle = Bundle({"calls": []})
    for n_users, n_items, k, dtype, kind in TOP_K_CASES:
        if kind == "ties":
            scores = torch.randint(-2, 3, (n_users, n_items), generator=generator).double()
        else:
            scores = torch.randn(n_users, n_items, generator=generator, dtype=torch.float64)
        seen = torch.rand(n_users, n_items, generator=generator) < 0.35
        seen[0] = True
        seen[0, torch.randint(0, n_items, (1,), generator=generator)] = False  # one candidate
        seen[1] = False  # every item a candidate
        if n_users > 3:
            seen[2] = True  # no candidate
            # every score negative, half the items seen: masking the seen items with 0 would put them first
            scores[3] = -1.0 - torch.randint(0, 3, (n_items,), generator=generator).double()
            seen[3] = torch.rand(n_items, generator=generator) < 0.5
            seen[3, torch.randperm(n_items, generator=generator)[:min(k, n_items)]] = False  # k candidates at least
        bundle.meta["calls"].append({"args": [{"tensor": bundle.add_tensor("t", scores), "dtype": dtype},
                                              {"tensor": bundle.add_tensor("t", seen)}, {"value": k}],
                                     "size": [n_users, n_items, k], "dtype": dtype, "kind": kind})
    return {records.TOP_K: bundle}


def _top_k_cause(out: torch.Tensor, scores: torch.Tensor, seen: torch.Tensor, k: int) -> tuple[int, str]:
    """The likely cause of wrong lists (``out`` holds indices from -1 to n_items - 1), with its weight as evidence.

    Returns:
        ``(rank, cause)``: 0 for a seen item where the user had k unseen ones to list, 1 for ties, 2 for short
        lists, 3 for anything else (the check reports the call whose cause ranks first).
    """
    n_users, n_items = scores.shape
    expected = reference_top_k(scores, seen, k)
    n_candidates = (~seen).sum(dim=1)
    picked = [(row, col) for row, col in (seen.gather(1, out.clamp(min=0)) & (out >= 0)).nonzero().tolist()]
    if picked:
        # a seen item where the user had k unseen ones to list says more than one in a short list
        row, col = next(((r, c) for r, c in picked if int(n_candidates[r]) >= k), picked[0])
        found = f"It recommends item {int(out[row, col])} to user row {row}, who has seen it."
        if int(n_candidates[row]) < k:
            return 2, (f"{found} That user has only {int(n_candidates[row])} unseen item(s): list them, then -1 in "
                       "the other places.")
        # Rows with k candidates or more (where padding plays no part): are they the lists of scores whose seen
        # items were set to 0?
        full = n_candidates >= k
        nothing_seen = torch.zeros_like(seen)
        zero_masked = reference_top_k(scores.masked_fill(seen, 0.0), nothing_seen, k)
        unmasked = reference_top_k(scores, nothing_seen, k)
        if torch.equal(out[full], zero_masked[full]) and not torch.equal(out[full], unmasked[full]):
            return 0, f"{found} Scores can be negative: mask the seen items with float('-inf'), not 0."
        return 0, (f"{found} Seen items never come back: mask them before sorting, scores.masked_fill(seen, "
                   "float('-inf')).")
    for row in range(n_users):
        wanted = min(int(n_candidates[row]), k)
        if bool((out[row, wanted:] != -1).any()) or bool((out[row, :wanted] < 0).any()):
            return 2, (f"User row {row} has {int(n_candidates[row])} unseen item(s): the row must list "
                       f"{'them' if wanted < k else f'the best {k}'}, then hold -1 in its other {k - wanted} "
                       "place(s).")
    flipped = reference_top_k(scores.flip(1), seen.flip(1), k)
    if torch.equal(out, torch.where(flipped >= 0, n_items - 1 - flipped, flipped)):
        return 1, ("Equal scores must put the lower item index first (you put the higher one first): sort with "
                   "torch.sort(..., descending=True, stable=True), which keeps equal scores in index order.")
    if torch.equal(out, reference_top_k(-scores, seen, k)):
        return 3, "The best item comes first: sort by decreasing score."

    def listed_scores(lists: torch.Tensor) -> torch.Tensor:
        return torch.where(lists >= 0, scores.gather(1, lists.clamp(min=0)), torch.tensor(-math.inf, dtype=scores.dtype))

    if torch.equal(listed_scores(out), listed_scores(expected)):
        return 1, ("Equal scores must put the lower item index first (the right scores, but ties in another "
                   "order): torch.topk and an unstable sort do not promise an order for ties; use torch.sort(..., "
                   "descending=True, stable=True) (or torch.argsort(..., stable=True)).")
    return 3, "Each row must list the user's unseen items by decreasing score (ties: lower index first), then -1."


def check_top_k(context: Context) -> None:
    """Task 5 (see the module docstring)."""
    book = "rank-top-k"
    record, calls = _outcomes(context, records.TOP_K, "top_k", "def top_k(scores, seen, k)")
    probe = context.probes[records.TOP_K]
    wrong: list[tuple[int, str]] = []  # (rank of the cause, message) of each call whose lists differ
    for call, outcome in zip(probe.meta["calls"], calls):
        scores, seen = _call_args(probe, {"args": call["args"][:2]})
        scores = _as_dtype(scores, call["dtype"])
        seen = seen.bool()
        n_users, n_items, k = call["size"]
        where = (f"for top_k(scores, seen, k={k}) with {n_users} users and {n_items} items ({call['dtype']}"
                 f"{', many equal scores' if call['kind'] == 'ties' else ''})")
        error = outcome.get("error")
        if error:
            message = error_text(error)
            if not_implemented(error):
                cause = STUB_HINT
            elif "out of range" in message or "selected index k" in message:
                cause = (f"k can exceed the number of items (here {k} > {n_items}) or of a user's unseen items: "
                         "take the sorted order of every item, keep min(k, n_items) columns and fill the rest "
                         "with -1.")
            else:
                cause = "Sort each row by decreasing score with the seen items masked out."
            fail(f"top_k raised {message} {where}. {cause}", book)
        result = _result(outcome, f"the result {where}", "Return a tensor of item indices.", book)
        shape = tuple(result["shape"])
        if shape != (n_users, k):
            cause = ("Keep k columns even when k is larger than the number of items: fill the missing places with -1."
                     if len(shape) == 2 and shape[0] == n_users and shape[1] == min(k, n_items) else
                     "Return one row of k item indices per user.")
            fail(f"expected shape (n_users, k) = {(n_users, k)} {where}, got {shape}. {cause}", book)
        if result["dtype"] != "torch.int64":
            cause = ("It holds scores: return the indices (torch.sort(...).indices), not the values."
                     if is_float_dtype(result) else "Convert with .long().")
            fail(f"expected item indices of dtype torch.int64 (long) {where}, got {result['dtype']}. {cause}", book)
        out = tensor_of(result, record)
        outside = (out < -1) | (out >= n_items)
        if bool(outside.any()):
            fail(f"expected item indices from 0 to {n_items - 1}, or -1 for an empty place, {where}; got "
                 f"{int(out[outside][0])}.", book)
        if not torch.equal(out, reference_top_k(scores, seen, k)):
            rank, cause = _top_k_cause(out, scores, seen, k)
            wrong.append((rank, f"expected other lists {where}. {cause}"))
            continue
        _not_modified(outcome, ("scores", "seen"), "top_k", where, book)
    if wrong:
        fail(min(wrong, key=lambda item: item[0])[1], book)


# =========================================================================== Task 6

#: (n_users, n_items, K)
METRIC_CASES = ((6, 12, 3), (5, 9, 1), (8, 20, 10), (5, 7, 5))


def _metric_bundle(generator: torch.Generator) -> Bundle:
    """Lists of K items, some padded with -1 (the last user's empty), held-out sets of 0, 1, 2 and more than K
    items; the last item held out beside padded lists (where -1 read as an index would find it); K = 1 to 10."""
    bundle = Bundle({"calls": []})
    for n_users, n_items, k in METRIC_CASES:
        top = torch.full((n_users, k), -1, dtype=torch.int64)
        held = torch.zeros(n_users, n_items, dtype=torch.bool)
        for row in range(n_users):
            length = k if row % 3 != 2 else int(torch.randint(0, k, (1,), generator=generator))
            if row == n_users - 1:
                length = 0
            top[row, :length] = torch.randperm(n_items, generator=generator)[:length]
            size = [0, 1, k + 2, 2, int(torch.randint(1, n_items, (1,), generator=generator))][row % 5]
            held[row, torch.randperm(n_items, generator=generator)[:size]] = True
            if length < k and size > 0:
                held[row, n_items - 1] = True
            if size and length and row % 2 == 0:  # a hit at the first place
                hit = int(held[row].nonzero()[0])
                if hit not in top[row, :length].tolist():
                    top[row, 0] = hit
        bundle.meta["calls"].append({"args": [{"tensor": bundle.add_tensor("t", top)},
                                              {"tensor": bundle.add_tensor("t", held)}],
                                     "size": [n_users, n_items, k]})
    return bundle


def recall_probe(generator: torch.Generator, sources: Mapping[str, str] | None = None) -> dict[str, Bundle]:
    """See :func:`_metric_bundle`."""
    return {records.RECALL: _metric_bundle(generator)}


def ndcg_probe(generator: torch.Generator, sources: Mapping[str, str] | None = None) -> dict[str, Bundle]:
    """See :func:`_metric_bundle`."""
    return {records.NDCG: _metric_bundle(generator)}


def _hits(top: torch.Tensor, held: torch.Tensor, *, padding_is_last: bool = False) -> torch.Tensor:
    """rel_j as a float64 matrix; ``padding_is_last`` reads -1 as an index (the last item), as a common mistake does."""
    if padding_is_last:
        return held.gather(1, torch.where(top < 0, held.shape[1] + top, top)).double()
    return (held.gather(1, top.clamp(min=0)) & (top >= 0)).double()


def _with_nan(values: torch.Tensor, n_relevant: torch.Tensor) -> torch.Tensor:
    return torch.where(n_relevant > 0, values.double(), torch.tensor(math.nan, dtype=torch.float64))


def _metric_variants(name: str, top: torch.Tensor, held: torch.Tensor) -> list[tuple[torch.Tensor, str]]:
    """What common mistakes give, each with the cause to report."""
    k, n_items = top.shape[1], held.shape[1]
    n_relevant = held.sum(dim=1)
    hits, padded = _hits(top, held), _hits(top, held, padding_is_last=True)
    zero_instead = "Users without held-out positives have nothing to find: return NaN for them (float('nan')), not 0."
    padding = ("-1 marks an empty place, not an item: held_out[u, -1] is the last item. Count a hit only where "
               "top_k >= 0.")
    if name == "recall":
        n = n_relevant.clamp(min=1).double()
        return [
            (_with_nan(hits.sum(1) / k, n_relevant), "recall divides by the number of held-out positives |R_u|, not "
             "by K (that is precision@K)."),
            (_with_nan(hits.sum(1) / n_relevant.clamp(min=1, max=k), n_relevant), "recall divides by |R_u|, all the "
             "held-out positives, not by min(K, |R_u|)."),
            (_with_nan(padded.sum(1) / n, n_relevant), padding),
            (hits.sum(1) / n, zero_instead),
            (_with_nan((hits.sum(1) > 0).double(), n_relevant), "That is the hit rate: recall counts every hit, "
             "divided by |R_u|."),
        ]
    ranks = torch.arange(1, n_items + 2, dtype=torch.float64)  # enough ranks for any ideal list
    right = 1.0 / torch.log2(ranks + 1)

    def ndcg(hit: torch.Tensor, discount: torch.Tensor, ideal_count: torch.Tensor, *, nan: bool = True,
             floor: float = 0.0):
        dcg = (hit * discount[:k]).sum(1)
        ideal = torch.cat([torch.zeros(1, dtype=torch.float64), discount.cumsum(0)])[ideal_count]
        values = dcg / ideal.clamp(min=floor) if floor else dcg / ideal
        return _with_nan(values, n_relevant) if nan else torch.where(n_relevant > 0, values, 0.0)

    at_most_k = n_relevant.clamp(max=k)
    shifted = ("The discount is off by one: rank j (from 1 to K) is discounted by 1/log2(j + 1), so the first place "
               "counts 1/log2(2) = 1.")
    return [
        (ndcg(hits, 1.0 / torch.log2(ranks + 2), at_most_k), shifted),
        # the same with the ideal DCG kept at least 1 (as code that guards against 0 / 0 with clamp(min=1) does)
        (ndcg(hits, 1.0 / torch.log2(ranks + 2), at_most_k, floor=1.0), shifted),
        (ndcg(hits, 1.0 / torch.log2(ranks), at_most_k), "The discount is off by one: with ranks j = 1..K use "
         "1/log2(j + 1) (with 0-based positions p, 1/log2(p + 2)); log2(1) = 0 gives inf."),
        (ndcg(hits, right, n_relevant), "The ideal DCG counts min(K, |R_u|) hits, not all |R_u| held-out positives "
         "(a perfect list of K items must score 1)."),
        (ndcg(hits, right, torch.full_like(n_relevant, k)), "The ideal DCG counts min(K, |R_u|) hits, not K."),
        (_with_nan((hits * right[:k]).sum(1), n_relevant), "The DCG is not normalised: divide by the ideal DCG, the "
         "DCG of min(K, |R_u|) hits at the top."),
        (ndcg(padded, right, at_most_k), padding),
        (ndcg(hits, right, at_most_k, nan=False), zero_instead),
    ]


def _same_values(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per user: equal within tolerance, NaN matching NaN."""
    return torch.isclose(a.double(), b.double(), rtol=1e-4, atol=1e-6, equal_nan=True)


def _metric_hint(name: str) -> str:
    if name == "recall":
        return "recall@K = (the number of the K places that hold a held-out item) / |R_u|."
    return ("NDCG@K = DCG / IDCG with DCG = the sum over hits at ranks j = 1..K of 1/log2(j + 1), and IDCG the same "
            "sum over ranks 1..min(K, |R_u|).")


def _check_metric(context: Context, key: str, name: str, reference, book: str = "rank-metrics") -> None:
    function = f"{name}_at_k_per_user"
    record, calls = _outcomes(context, key, function, f"def {function}(top_k, held_out)")
    probe = context.probes[key]
    for call, outcome in zip(probe.meta["calls"], calls):
        top, held = _call_args(probe, call)
        held = held.bool()
        n_users, n_items, k = call["size"]
        where = f"for {n_users} users' lists of K = {k} items ({n_items} items in all)"
        error = outcome.get("error")
        if error:
            message = error_text(error)
            if not_implemented(error):
                cause = STUB_HINT
            elif "out of bounds" in message or "index" in message.lower():
                cause = "-1 marks an empty place in a list: it is not an item index. Count hits only where top_k >= 0."
            else:
                cause = "Use torch operations on top_k and held_out."
            fail(f"{function} raised {message} {where}. {cause}", book)
        result = _result(outcome, f"the result {where}", "Return a tensor with one value per user.", book)
        shape = tuple(result["shape"])
        if shape != (n_users,):
            cause = ("It is a single number: return one value per user (the notebook averages them)."
                     if math.prod(shape) == 1 else "Return one value per user (row of top_k).")
            fail(f"expected shape (n_users,) = {(n_users,)} {where}, got {shape}. {cause}", book)
        if not is_float_dtype(result) or half_precision(result):
            fail(f"expected floating-point values (float32 or float64) {where}, got dtype {result['dtype']}. "
                 "Convert the hit counts with .float() before dividing.", book)
        out = tensor_of(result, record)
        expected = reference(top, held)
        same = _same_values(out, expected)
        if not bool(same.all()):
            row = int((~same).nonzero()[0])
            cause = next((c for variant, c in _metric_variants(name, top, held) if bool(_same_values(out, variant).all())),
                         None)
            if cause is None:
                if bool(torch.isnan(expected[row])) and not bool(torch.isnan(out[row])):
                    cause = "Users without held-out positives have nothing to find: return NaN for them (float('nan'))."
                elif not bool(torch.isfinite(out[row])):
                    cause = "Only users without held-out positives get NaN; a division by zero or log2(1) = 0 gives inf."
                else:
                    cause = _metric_hint(name)
            listed = [int(i) for i in top[row].tolist()]
            relevant = held[row].nonzero().flatten().tolist()
            fail(f"expected {fmt(float(expected[row]))} for user row {row} (list {listed}, held-out items "
                 f"{relevant}) {where}, got {fmt(float(out[row]))}. {cause}", book)
        _not_modified(outcome, ("top_k", "held_out"), function, where, book)


def check_recall(context: Context) -> None:
    """Task 6, recall (see the module docstring)."""
    _check_metric(context, records.RECALL, "recall", recall_at_k_per_user)


def check_ndcg(context: Context) -> None:
    """Task 6, NDCG (see the module docstring)."""
    _check_metric(context, records.NDCG, "ndcg", ndcg_at_k_per_user)


# =========================================================================== the registry

TASKS = (
    Task("task1-interactions-test", TASK_INTERACTIONS, check_interactions, interactions_probe, ("task1-interactions",)),
    Task("task2-negatives-test", TASK_NEGATIVES, check_negatives, negatives_probe, ("task2-negatives",)),
    Task("task3-bpr-loss-test", TASK_BPR, check_bpr_loss, bpr_probe, ("task3-bpr-loss",)),
    Task("task3-l2-penalty-test", TASK_L2, check_l2_penalty, l2_probe, ("task3-l2-penalty",)),
    Task("task4-model-test", TASK_MODEL, check_model, model_probe, ("task4-model",)),
    Task("task5-top-k-test", TASK_TOP_K, check_top_k, top_k_probe, ("task5-top-k",)),
    Task("task6-recall-test", TASK_RECALL, check_recall, recall_probe, ("task6-recall",)),
    Task("task6-ndcg-test", TASK_NDCG, check_ndcg, ndcg_probe, ("task6-ndcg",)),
)

__all__ = ["DEFAULT_FACTORS", "TASKS", "UNIFORMITY_P", "uniformity_p_value"]
