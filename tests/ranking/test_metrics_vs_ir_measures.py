"""Cross-check of the ranking metrics against ir-measures (trec_eval via pytrec_eval) on random lists.

Conventions, ours against trec_eval's:

- Lists are given to trec_eval as scored documents with distinct scores
  (K, K-1, ...), so its own tie rule (score, then document id) never applies.
- Users without a relevant item are absent from the qrels; trec_eval skips
  them, as our mean does (our per-user value is NaN).
- A user whose list is empty is absent from the run, so trec_eval reports
  nothing for them; ours is 0 (a user with something to find, and no hit).
- P@K divides by K even for a shorter list (trec_eval too); R@K by |R_u|;
  nDCG@K has binary gains and discount 1/log2(rank + 1) in both.
- AP@K: trec_eval's ``map_cut_K`` divides by |R_u|, ours by min(K, |R_u|)
  (so that a perfect list scores 1): ours = theirs * |R_u| / min(K, |R_u|).
- Hit rate@K is ir-measures' Success@K.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

ir_measures = pytest.importorskip("ir_measures")

from recsys_ref.metrics import (  # noqa: E402
    average_precision_at_k_per_user,
    hit_rate_at_k_per_user,
    ndcg_at_k_per_user,
    precision_at_k_per_user,
    recall_at_k_per_user,
)

N_USERS, N_ITEMS, WIDTH = 60, 40, 12


def random_lists(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Lists of random lengths 0..WIDTH (padded with -1), and held-out sets of 0..15 items."""
    rng = np.random.default_rng(seed)
    top = np.full((N_USERS, WIDTH), -1)
    held = np.zeros((N_USERS, N_ITEMS), dtype=bool)
    for u in range(N_USERS):
        length = rng.integers(0, WIDTH + 1)
        top[u, :length] = rng.permutation(N_ITEMS)[:length]
        held[u, rng.permutation(N_ITEMS)[: rng.integers(0, 16)]] = True
    return torch.from_numpy(top), torch.from_numpy(held)


def trec_eval(top: torch.Tensor, held: torch.Tensor, k: int) -> dict[tuple[str, str], float]:
    qrels = [ir_measures.Qrel(str(u), str(i), 1) for u, i in zip(*np.nonzero(held.numpy()))]
    run = [
        ir_measures.ScoredDoc(str(u), str(int(item)), float(WIDTH - rank))
        for u in range(top.shape[0])
        for rank, item in enumerate(top[u].tolist())
        if item >= 0
    ]
    measures = [
        ir_measures.P @ k,
        ir_measures.R @ k,
        ir_measures.nDCG @ k,
        ir_measures.AP @ k,
        ir_measures.Success @ k,
    ]
    return {
        (m.query_id, str(m.measure).split("@")[0]): m.value
        for m in ir_measures.iter_calc(measures, qrels, run)
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("k", [1, 5, 10, 15])
def test_ranking_metrics_agree_with_trec_eval(seed, k):
    top, held = random_lists(seed)
    theirs = trec_eval(top, held, k)
    ours = {
        "P": precision_at_k_per_user(top, held, k),
        "R": recall_at_k_per_user(top, held, k),
        "nDCG": ndcg_at_k_per_user(top, held, k),
        "AP": average_precision_at_k_per_user(top, held, k),
        "Success": hit_rate_at_k_per_user(top, held, k),
    }
    n_relevant = held.sum(dim=1)
    compared = 0
    for u in range(N_USERS):
        if n_relevant[u] == 0:
            assert all(torch.isnan(values[u]) for values in ours.values())
            continue
        if (top[u] < 0).all():
            assert all(values[u] == 0 for values in ours.values())
            continue
        for name, values in ours.items():
            expected = theirs[(str(u), name)]
            if name == "AP":
                expected *= float(n_relevant[u]) / min(k, int(n_relevant[u]))
            assert float(values[u]) == pytest.approx(expected, abs=1e-9), (name, u)
            compared += 1
    assert compared > 5 * 30  # most users took part in the comparison
