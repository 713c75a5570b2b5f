"""Cases of the assignment ``rank`` (BPR from implicit feedback): correct answers in other styles and planted mistakes.

Each graded cell is scored on its own (no task uses another task's code), so each planted
mistake costs exactly its own graded cell, with a message that names the cause (see
notebook_cases.Case). Tasks 3 and 6 have two graded cells each (``bpr_loss`` and
``l2_penalty``; recall and NDCG): a mistake in one costs that cell only.

The cases replace the body of one function of the instructor's solution (the bodies below must
occur in it once), or a whole class, so they follow the release. The untouched release is built
from the released notebook's answer cells.
"""

from __future__ import annotations

import textwrap

from grader import notebooks as nbs
from notebook_cases import Case, release_notebook

INTERACTIONS, NEGATIVES, BPR, L2, MODEL, TOP_K, RECALL, NDCG = (
    "task1-interactions", "task2-negatives", "task3-bpr-loss", "task3-l2-penalty", "task4-model", "task5-top-k",
    "task6-recall", "task6-ndcg")
T1, T2, T3, T3L2, T4, T5, T6R, T6N = (f"{cell}-test" for cell in (INTERACTIONS, NEGATIVES, BPR, L2, MODEL, TOP_K,
                                                                   RECALL, NDCG))

#: The instructor's bodies (each must occur once in its answer cell).
BODIES = {
    INTERACTIONS: '''
    if threshold is not None:
        ratings = ratings[ratings["rating"] >= threshold]
    users = torch.tensor(ratings["user_id"].to_numpy() - 1, dtype=torch.long)
    items = torch.tensor(ratings["item_id"].to_numpy() - 1, dtype=torch.long)
    matrix = torch.zeros(n_users, n_items)
    matrix[users, items] = 1.0
    return matrix''',
    NEGATIVES: '''
    n_items = interactions.shape[1]
    negatives = torch.randint(0, n_items, users.shape, generator=generator)
    rejected = interactions[users, negatives] > 0
    while rejected.any():  # draw again where the item is a positive of its user
        negatives[rejected] = torch.randint(0, n_items, (int(rejected.sum()),), generator=generator)
        rejected = interactions[users, negatives] > 0
    return negatives''',
    BPR: '''
    return -F.logsigmoid(positive_scores - negative_scores).mean()''',
    L2: '''
    squares = (user_weight[users].pow(2).sum() + item_weight[positives].pow(2).sum()
               + item_weight[negatives].pow(2).sum())
    return squares / len(users)''',
    TOP_K: '''
    n_users, n_items = scores.shape
    masked = scores.masked_fill(seen, float("-inf"))
    order = torch.sort(masked, dim=1, descending=True, stable=True).indices
    lists = torch.full((n_users, k), -1, dtype=torch.long)
    width = min(k, n_items)
    lists[:, :width] = order[:, :width]
    n_unseen = (~seen).sum(dim=1, keepdim=True)
    return torch.where(torch.arange(k) < n_unseen, lists, torch.full_like(lists, -1))''',
    RECALL: '''
    hits = held_out.gather(1, top_k.clamp(min=0)) & (top_k >= 0)
    n_relevant = held_out.sum(dim=1)
    recall = hits.sum(dim=1).double() / n_relevant.clamp(min=1)
    return torch.where(n_relevant > 0, recall, torch.tensor(float("nan"), dtype=torch.float64))''',
    NDCG: '''
    n_places = top_k.shape[1]
    hits = (held_out.gather(1, top_k.clamp(min=0)) & (top_k >= 0)).double()
    discounts = 1.0 / torch.log2(torch.arange(2, n_places + 2, dtype=torch.float64))  # ranks 1..K
    dcg = (hits * discounts).sum(dim=1)
    n_relevant = held_out.sum(dim=1)
    ideal = torch.cat([torch.zeros(1, dtype=torch.float64), discounts.cumsum(0)])[n_relevant.clamp(max=n_places)]
    return torch.where(n_relevant > 0, dcg / ideal.clamp(min=1.0), torch.tensor(float("nan"), dtype=torch.float64))''',
}
INIT = '''
        self.user_factors = nn.Embedding(n_users, n_factors)
        self.item_factors = nn.Embedding(n_items, n_factors)
        self.item_bias = nn.Embedding(n_items, 1)
        nn.init.normal_(self.user_factors.weight, std=0.1)
        nn.init.normal_(self.item_factors.weight, std=0.1)
        nn.init.zeros_(self.item_bias.weight)'''
SCORE = '''
        dot = (self.user_factors(users) * self.item_factors(items)).sum(dim=1)
        return dot + self.item_bias(items).squeeze(1)'''


def body(cell: str, code: str) -> tuple[tuple[str, str, str], ...]:
    """Replace the body of the function in ``cell`` (keeping its signature and docstring)."""
    return ((cell, BODIES[cell].lstrip("\n"), textwrap.indent(textwrap.dedent(code).strip("\n"), "    ")),)


def model(init: str | None = None, score: str | None = None) -> tuple[tuple[str, str, str], ...]:
    """Replace ``__init__``'s and/or ``score``'s body of the model."""
    edits = []
    if init is not None:
        edits.append((MODEL, INIT.lstrip("\n"), textwrap.indent(textwrap.dedent(init).strip("\n"), "        ")))
    if score is not None:
        edits.append((MODEL, SCORE.lstrip("\n"), textwrap.indent(textwrap.dedent(score).strip("\n"), "        ")))
    return tuple(edits)


def release_code() -> dict[str, str]:
    """The answer cells as released (``raise NotImplementedError()`` under ``YOUR CODE HERE``)."""
    return {nbs.grade_id(c): nbs.source(c) for c in release_notebook("rank").cells if nbs.is_solution(c)}


ALL_TASKS = (T1, T2, T3, T3L2, T4, T5, T6R, T6N)

# --------------------------------------------------------------------------- correct answers in other styles

CORRECT = (
    Case("rank-solution", "rank", "the instructor's solution"),
    Case("rank-ok-interactions-loop", "rank", "interactions: a loop over the rows, float64, None tested inside",
         edits=body(INTERACTIONS, '''
             matrix = torch.zeros((n_users, n_items), dtype=torch.float64)
             for row in ratings.itertuples():
                 if threshold is None or row.rating >= threshold:
                     matrix[row.user_id - 1, row.item_id - 1] = 1
             return matrix''')),
    Case("rank-ok-interactions-numpy", "rank", "interactions: a NumPy matrix with np.add.at, clipped to 1, to torch",
         edits=body(INTERACTIONS, '''
             import numpy as np
             keep = np.ones(len(ratings), dtype=bool) if threshold is None else ratings["rating"].to_numpy() >= threshold
             matrix = np.zeros((n_users, n_items), dtype=np.float32)
             np.add.at(matrix, (ratings["user_id"].to_numpy()[keep] - 1, ratings["item_id"].to_numpy()[keep] - 1), 1)
             return torch.from_numpy(np.minimum(matrix, 1))''')),
    Case("rank-ok-interactions-sparse", "rank", "interactions: a sparse COO tensor made dense, (x > 0).float()",
         edits=body(INTERACTIONS, '''
             chosen = ratings if threshold is None else ratings.query("rating >= @threshold")
             index = torch.tensor([chosen["user_id"].to_list(), chosen["item_id"].to_list()], dtype=torch.long) - 1
             dense = torch.sparse_coo_tensor(index.reshape(2, -1), torch.ones(len(chosen)), (n_users, n_items)).to_dense()
             return (dense > 0).float()''')),
    Case("rank-ok-sampler-multinomial", "rank", "sampler: torch.multinomial on 1 - interactions[users]",
         edits=body(NEGATIVES, '''
             weights = 1.0 - interactions[users]
             return torch.multinomial(weights, 1, generator=generator).squeeze(1)''')),
    Case("rank-ok-sampler-loop", "rank", "sampler: a loop over the batch, an index into each user's unseen items",
         edits=body(NEGATIVES, '''
             negatives = []
             for user in users.tolist():
                 candidates = torch.nonzero(interactions[user] == 0).flatten()
                 pick = torch.randint(len(candidates), (1,), generator=generator)
                 negatives.append(int(candidates[pick]))
             return torch.tensor(negatives, dtype=torch.long)''')),
    Case("rank-ok-sampler-argmax", "rank", "sampler: argmax of uniform noise on the unseen items",
         edits=body(NEGATIVES, '''
             noise = torch.rand(len(users), interactions.shape[1], generator=generator)
             return (noise * (interactions[users] == 0)).argmax(dim=1)''')),
    Case("rank-ok-sampler-rth-unseen", "rank", "sampler: the r-th unseen item with r uniform (the reference's method)",
         edits=body(NEGATIVES, '''
             unseen = interactions[users] == 0
             counts = unseen.sum(dim=1)
             r = (torch.rand(len(users), generator=generator, dtype=torch.float64) * counts).long()
             return (unseen.cumsum(dim=1) > r.unsqueeze(1)).long().argmax(dim=1)''')),
    Case("rank-ok-bpr-softplus", "rank", "bpr_loss: F.softplus(x_uj - x_ui).mean()",
         edits=body(BPR, "return F.softplus(negative_scores - positive_scores).mean()")),
    Case("rank-ok-bpr-sum-over-size", "rank", "bpr_loss: -logsigmoid summed, divided by numel, on float64",
         edits=body(BPR, '''
             difference = positive_scores.double() - negative_scores.double()
             return -F.logsigmoid(difference).sum() / difference.numel()''')),
    Case("rank-ok-l2-per-triple-mean", "rank", "l2_penalty: per-triple squared norms, averaged with .mean()",
         edits=body(L2, '''
             per_triple = (user_weight[users].norm(dim=1) ** 2 + item_weight[positives].norm(dim=1) ** 2
                           + item_weight[negatives].norm(dim=1) ** 2)
             return per_triple.mean()''')),
    Case("rank-ok-model-no-bias-einsum", "rank", "model without item bias, score with torch.einsum, default init",
         edits=model(init='''
             self.user_factors = nn.Embedding(n_users, n_factors)
             self.item_factors = nn.Embedding(n_items, n_factors)''',
                     score='''
             return torch.einsum("bd,bd->b", self.user_factors(users), self.item_factors(items))''')),
    Case("rank-ok-model-parameter-bias", "rank", "model with the item bias as an nn.Parameter of shape (n_items,)",
         edits=model(init='''
             self.user_factors = nn.Embedding(n_users, n_factors)
             self.item_factors = nn.Embedding(n_items, n_factors)
             nn.init.uniform_(self.user_factors.weight, -0.05, 0.05)
             nn.init.uniform_(self.item_factors.weight, -0.05, 0.05)
             self.item_bias = nn.Parameter(torch.zeros(n_items))''',
                     score='''
             p, q = self.user_factors(users), self.item_factors(items)
             return (p * q).sum(-1) + self.item_bias[items]''')),
    Case("rank-ok-topk-argsort-loop", "rank", "top_k: stable argsort, then each row filled in a loop",
         edits=body(TOP_K, '''
             order = torch.argsort(scores.masked_fill(seen, -float("inf")), dim=1, descending=True, stable=True)
             result = torch.full((scores.shape[0], k), -1, dtype=torch.int64)
             for user in range(scores.shape[0]):
                 n_candidates = int((~seen[user]).sum())
                 take = min(k, n_candidates)
                 result[user, :take] = order[user, :take]
             return result''')),
    Case("rank-ok-topk-python-sort", "rank", "top_k: Python's sorted with the key (-score, index) per user",
         edits=body(TOP_K, '''
             rows = []
             for user in range(scores.shape[0]):
                 candidates = [i for i in range(scores.shape[1]) if not seen[user, i]]
                 best = sorted(candidates, key=lambda i: (-float(scores[user, i]), i))[:k]
                 rows.append(best + [-1] * (k - len(best)))
             return torch.tensor(rows, dtype=torch.long).reshape(scores.shape[0], k)''')),
    Case("rank-ok-topk-numpy-lexsort", "rank", "top_k: np.lexsort on (index, -score, seen)",
         edits=body(TOP_K, '''
             import numpy as np
             s, m = scores.detach().numpy(), seen.numpy()
             n_users, n_items = s.shape
             lists = np.full((n_users, k), -1, dtype=np.int64)
             for user in range(n_users):
                 order = np.lexsort((np.arange(n_items), -s[user], m[user]))
                 order = order[~m[user][order]][:k]
                 lists[user, :len(order)] = order
             return torch.from_numpy(lists)''')),
    Case("rank-ok-recall-sets", "rank", "recall: Python sets per user, float('nan') for users without positives",
         edits=body(RECALL, '''
             values = []
             for user in range(top_k.shape[0]):
                 relevant = set(held_out[user].nonzero().flatten().tolist())
                 listed = {item for item in top_k[user].tolist() if item >= 0}
                 values.append(len(listed & relevant) / len(relevant) if relevant else float("nan"))
             return torch.tensor(values)''')),
    Case("rank-ok-ndcg-natural-log", "rank", "NDCG with natural logarithms in DCG and IDCG (the base cancels)",
         edits=body(NDCG, '''
             import math
             values = []
             for user in range(top_k.shape[0]):
                 n_relevant = int(held_out[user].sum())
                 if n_relevant == 0:
                     values.append(math.nan)
                     continue
                 dcg = sum(1 / math.log(p + 2) for p, item in enumerate(top_k[user].tolist())
                           if item >= 0 and bool(held_out[user, item]))
                 ideal = sum(1 / math.log(p + 2) for p in range(min(top_k.shape[1], n_relevant)))
                 values.append(dcg / ideal)
             return torch.tensor(values, dtype=torch.float64)''')),
    Case("rank-ok-ndcg-float32-masked", "rank", "NDCG in float32 with a padding mask and torch.nan",
         edits=body(NDCG, '''
             valid = top_k >= 0
             rel = torch.zeros(top_k.shape)
             rel[valid] = held_out[torch.arange(top_k.shape[0]).unsqueeze(1).expand_as(top_k)[valid], top_k[valid]].float()
             ranks = torch.arange(1, top_k.shape[1] + 1, dtype=torch.float32)
             dcg = (rel / torch.log2(ranks + 1)).sum(dim=1)
             n_rel = held_out.sum(dim=1)
             idcg = torch.stack([(1 / torch.log2(ranks[:int(n)] + 1)).sum() for n in n_rel.clamp(max=top_k.shape[1])])
             return torch.where(n_rel > 0, dcg / idcg.clamp(min=1e-9), torch.tensor(torch.nan))''')),
)

# --------------------------------------------------------------------------- planted mistakes (each loses its own cell)

MISTAKES = (
    Case("rank-interactions-ids-as-indices", "rank", "interactions: the 1-based ids used as 0-based indices",
         edits=body(INTERACTIONS, '''
             if threshold is not None:
                 ratings = ratings[ratings["rating"] >= threshold]
             matrix = torch.zeros(n_users, n_items)
             matrix[ratings["user_id"].to_numpy(), ratings["item_id"].to_numpy()] = 1.0
             return matrix'''),
         expected={T1: 0}, message="The ids start at 1"),
    Case("rank-interactions-strict-threshold", "rank", "interactions: rating > threshold instead of >=",
         edits=((INTERACTIONS, 'ratings["rating"] >= threshold', 'ratings["rating"] > threshold'),),
         expected={T1: 0}, message="A rating equal to the threshold counts"),
    Case("rank-interactions-summed-duplicates", "rank", "interactions: index_put_ with accumulate=True (2 for a pair rated twice)",
         edits=((INTERACTIONS, "    matrix[users, items] = 1.0",
                 "    matrix.index_put_((users, items), torch.ones(len(users)), accumulate=True)"),),
         expected={T1: 0}, message="A pair rated twice gives 2"),
    Case("rank-interactions-half", "rank", "interactions: a float16 matrix (the task says float32 or float64)",
         edits=((INTERACTIONS, "    matrix = torch.zeros(n_users, n_items)",
                 "    matrix = torch.zeros(n_users, n_items, dtype=torch.float16)"),),
         expected={T1: 0}, message="got dtype torch.float16"),
    Case("rank-interactions-none-unhandled", "rank", "interactions: threshold=None compared with the ratings",
         edits=((INTERACTIONS, '    if threshold is not None:\n        ratings = ratings[ratings["rating"] >= threshold]',
                 '    ratings = ratings[ratings["rating"] >= threshold]'),),
         expected={T1: 0}, message="threshold=None means that every rating counts"),
    Case("rank-interactions-modifies-frame", "rank", "interactions: adds a column to the caller's frame",
         edits=body(INTERACTIONS, '''
             ratings["positive"] = True if threshold is None else ratings["rating"] >= threshold
             chosen = ratings[ratings["positive"]]
             matrix = torch.zeros(n_users, n_items)
             matrix[chosen["user_id"].to_numpy() - 1, chosen["item_id"].to_numpy() - 1] = 1.0
             return matrix'''),
         expected={T1: 0}, message="changes the ratings frame"),
    Case("rank-negatives-can-be-positives", "rank", "sampler: uniform over all items, positives not rejected",
         edits=body(NEGATIVES, "return torch.randint(0, interactions.shape[1], users.shape, generator=generator)"),
         expected={T2: 0}, message="are positives"),
    Case("rank-negatives-rejects-once", "rank", "sampler: rejects interacted items once instead of until none is left",
         edits=((NEGATIVES, "    while rejected.any():", "    if rejected.any():"),),
         expected={T2: 0}, message="are positives"),
    Case("rank-negatives-global-rng", "rank", "sampler: torch.randint without the generator (global random state)",
         edits=body(NEGATIVES, '''
             n_items = interactions.shape[1]
             negatives = torch.randint(0, n_items, users.shape)
             rejected = interactions[users, negatives] > 0
             while rejected.any():
                 negatives[rejected] = torch.randint(0, n_items, (int(rejected.sum()),))
                 rejected = interactions[users, negatives] > 0
             return negatives'''),
         expected={T2: 0}, message="uses torch's global random state"),
    Case("rank-negatives-last-item-never", "rank", "sampler: torch.randint(0, n_items - 1) never draws the last item",
         edits=body(NEGATIVES, '''
             n_items = interactions.shape[1]
             negatives = torch.randint(0, n_items - 1, users.shape, generator=generator)
             rejected = interactions[users, negatives] > 0
             while rejected.any():
                 negatives[rejected] = torch.randint(0, n_items - 1, (int(rejected.sum()),), generator=generator)
                 rejected = interactions[users, negatives] > 0
             return negatives'''),
         expected={T2: 0}, message="draws up to high - 1"),
    Case("rank-negatives-popularity-weighted", "rank", "sampler: unseen items weighted by their popularity",
         edits=body(NEGATIVES, '''
             popularity = interactions.sum(dim=0) + 1.0
             weights = (1.0 - interactions[users]) * popularity
             return torch.multinomial(weights, 1, generator=generator).squeeze(1)'''),
         expected={T2: 0}, message="far from uniform"),
    Case("rank-bpr-log-of-sigmoid", "rank", "bpr_loss: torch.log(torch.sigmoid(...)), infinite for large differences",
         edits=body(BPR, "return -torch.log(torch.sigmoid(positive_scores - negative_scores)).mean()"),
         expected={T3: 0}, message="overflows"),
    Case("rank-bpr-sign-swapped", "rank", "bpr_loss: x_uj - x_ui instead of x_ui - x_uj",
         edits=body(BPR, "return -F.logsigmoid(negative_scores - positive_scores).mean()"),
         expected={T3: 0}, message="The sign of the difference is swapped"),
    Case("rank-bpr-summed", "rank", "bpr_loss: summed over the batch instead of averaged",
         edits=body(BPR, "return -F.logsigmoid(positive_scores - negative_scores).sum()"),
         expected={T3: 0}, message="The loss is summed"),
    Case("rank-bpr-epsilon", "rank", "bpr_loss: log(sigmoid(x) + 1e-10), finite but wrong for large differences",
         edits=body(BPR, "return -torch.log(torch.sigmoid(positive_scores - negative_scores) + 1e-10).mean()"),
         expected={T3: 0}, message="log(sigmoid(x) + eps)"),
    Case("rank-l2-whole-tables", "rank", "l2_penalty: over the whole tables instead of the batch's rows",
         edits=body(L2, "return (user_weight.pow(2).sum() + item_weight.pow(2).sum()) / len(users)"),
         expected={T3L2: 0}, message="covers the whole tables"),
    Case("rank-l2-not-divided", "rank", "l2_penalty: the sum, not divided by the batch size",
         edits=((L2, "    return squares / len(users)", "    return squares"),),
         expected={T3L2: 0}, message="not divided by the batch size"),
    Case("rank-l2-unique-rows", "rank", "l2_penalty: each row once (unique indices), not once per use",
         edits=body(L2, '''
             squares = (user_weight[users.unique()].pow(2).sum() + item_weight[positives.unique()].pow(2).sum()
                        + item_weight[negatives.unique()].pow(2).sum())
             return squares / len(users)'''),
         expected={T3L2: 0}, message="counts each time"),
    Case("rank-model-zero-init", "rank", "model: factors initialised to zeros",
         edits=((MODEL, "        nn.init.normal_(self.user_factors.weight, std=0.1)\n"
                        "        nn.init.normal_(self.item_factors.weight, std=0.1)",
                 "        nn.init.zeros_(self.user_factors.weight)\n"
                 "        nn.init.zeros_(self.item_factors.weight)"),),
         expected={T4: 0}, message="random initial values"),
    Case("rank-model-sigmoid-score", "rank", "model: score returns sigmoid(x_ui)",
         edits=model(score='''
             dot = (self.user_factors(users) * self.item_factors(items)).sum(dim=1)
             return torch.sigmoid(dot + self.item_bias(items).squeeze(1))'''),
         expected={T4: 0}, message="score returns sigmoid(x_ui)"),
    Case("rank-model-matrix-product", "rank", "model: score with @, every user of the batch with every item",
         edits=model(score='''
             return self.user_factors(users) @ self.item_factors(items).T + self.item_bias(items).squeeze(1)'''),
         expected={T4: 0}, message="@ scores every user with every item"),
    Case("rank-model-bias-ignored", "rank", "model: an item bias that score never adds",
         edits=model(score='''
             return (self.user_factors(users) * self.item_factors(items)).sum(dim=1)'''),
         expected={T4: 0}, message="score ignores your item bias"),
    Case("rank-topk-includes-seen", "rank", "top_k: seen items not excluded",
         edits=((TOP_K, '    masked = scores.masked_fill(seen, float("-inf"))', "    masked = scores"),
                (TOP_K, "    n_unseen = (~seen).sum(dim=1, keepdim=True)", "    n_unseen = torch.full((n_users, 1), n_items)")),
         expected={T5: 0}, message="Seen items never come back"),
    Case("rank-topk-masked-with-zero", "rank", "top_k: seen items masked with 0 (scores can be negative)",
         edits=((TOP_K, 'scores.masked_fill(seen, float("-inf"))', "scores.masked_fill(seen, 0.0)"),),
         expected={T5: 0}, message="not 0"),
    Case("rank-topk-torch-topk", "rank", "top_k: torch.topk, whose order among equal scores is not by index",
         edits=body(TOP_K, '''
             n_users, n_items = scores.shape
             masked = scores.masked_fill(seen, float("-inf"))
             width = min(k, n_items)
             best = torch.topk(masked, width, dim=1)
             lists = torch.full((n_users, k), -1, dtype=torch.long)
             lists[:, :width] = torch.where(best.values > float("-inf"), best.indices, torch.tensor(-1))
             return lists'''),
         expected={T5: 0}, message="Equal scores must put the lower item index first"),
    Case("rank-topk-no-padding", "rank", "top_k: no -1 padding, seen items fill the short lists",
         edits=((TOP_K, "    return torch.where(torch.arange(k) < n_unseen, lists, torch.full_like(lists, -1))",
                 "    return lists"),),
         expected={T5: 0}, message="then -1 in the other places"),
    Case("rank-topk-masks-in-place", "rank", "top_k: masks the caller's scores in place",
         edits=((TOP_K, '    masked = scores.masked_fill(seen, float("-inf"))',
                 '    scores[seen] = float("-inf")\n    masked = scores'),),
         expected={T5: 0}, message="changes its argument scores in place"),
    Case("rank-recall-divided-by-k", "rank", "recall divided by K (precision)",
         edits=((RECALL, "hits.sum(dim=1).double() / n_relevant.clamp(min=1)", "hits.sum(dim=1).double() / top_k.shape[1]"),),
         expected={T6R: 0}, message="not by K"),
    Case("rank-recall-padding-as-last-item", "rank", "recall: -1 read as an index (the last item)",
         edits=((RECALL, "    hits = held_out.gather(1, top_k.clamp(min=0)) & (top_k >= 0)",
                 "    hits = held_out[torch.arange(top_k.shape[0]).unsqueeze(1), top_k]"),),
         expected={T6R: 0}, message="-1 marks an empty place"),
    Case("rank-recall-zero-without-positives", "rank", "recall: 0 instead of NaN for users without held-out positives",
         edits=((RECALL, 'torch.where(n_relevant > 0, recall, torch.tensor(float("nan"), dtype=torch.float64))',
                 "recall"),),
         expected={T6R: 0}, message="return NaN for them"),
    Case("rank-ndcg-discount-off-by-one", "rank", "NDCG: rank j discounted by 1/log2(j + 2)",
         edits=((NDCG, "torch.arange(2, n_places + 2, dtype=torch.float64)", "torch.arange(3, n_places + 3, dtype=torch.float64)"),),
         expected={T6N: 0}, message="The discount is off by one"),
    Case("rank-ndcg-log2-of-rank", "rank", "NDCG: 1/log2(j) for ranks from 1 (inf at the first place)",
         edits=((NDCG, "torch.arange(2, n_places + 2, dtype=torch.float64)", "torch.arange(1, n_places + 1, dtype=torch.float64)"),),
         expected={T6N: 0}, message="log2(1) = 0"),
    Case("rank-ndcg-ideal-over-all-positives", "rank", "NDCG: the ideal DCG over all |R_u| positives, not min(K, |R_u|)",
         edits=body(NDCG, '''
             hits = (held_out.gather(1, top_k.clamp(min=0)) & (top_k >= 0)).double()
             n_relevant = held_out.sum(dim=1)
             discounts = 1.0 / torch.log2(torch.arange(2, held_out.shape[1] + 2, dtype=torch.float64))
             dcg = (hits * discounts[:top_k.shape[1]]).sum(dim=1)
             ideal = torch.cat([torch.zeros(1, dtype=torch.float64), discounts.cumsum(0)])[n_relevant]
             return torch.where(n_relevant > 0, dcg / ideal.clamp(min=1.0), torch.tensor(float("nan"), dtype=torch.float64))'''),
         expected={T6N: 0}, message="not all |R_u| held-out positives"),
)

RELEASE = (
    Case("rank-untouched-release", "rank", "the release as handed out, nothing filled in",
         code=release_code(), expected={task: 0 for task in ALL_TASKS}, message="It is not implemented yet"),
    Case("rank-reference-top-k", "rank", "top_k imported from the reference implementation (recsys_ref.ranking)",
         code={TOP_K: "from recsys_ref.ranking import top_k"}, expected={T5: 0}, flags=("reference-used",),
         in_process=False),
)

CASES = CORRECT + MISTAKES + RELEASE
