"""Accuracy and ranking metrics.

Rating metrics compare predictions :math:`\\hat r_j` with true ratings
:math:`r_j` over :math:`N` held-out pairs. Ranking metrics compare each user's
top-:math:`K` recommended items with the set :math:`\\mathcal{R}_u` of items
relevant to that user (for example, rated 4 or more in the test part), and
average over the users that have at least one relevant item. A top-:math:`K`
list that repeats an item raises a ``ValueError`` naming the user (the item
would count twice); repeats in :math:`\\mathcal{R}_u` count once.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np


def _pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    true = np.asarray(y_true, dtype=float).reshape(-1)
    pred = np.asarray(y_pred, dtype=float).reshape(-1)
    if true.shape != pred.shape:
        raise ValueError(f"y_true has {true.size} values but y_pred has {pred.size}.")
    if true.size == 0:
        raise ValueError("cannot compute a metric on zero ratings.")
    return true, pred


def rmse(y_true, y_pred) -> float:
    """Root mean squared error :math:`\\sqrt{\\frac{1}{N}\\sum_j (r_j - \\hat r_j)^2}`."""
    true, pred = _pair(y_true, y_pred)
    return float(np.sqrt(np.mean((true - pred) ** 2)))


def mae(y_true, y_pred) -> float:
    """Mean absolute error :math:`\\frac{1}{N}\\sum_j |r_j - \\hat r_j|`."""
    true, pred = _pair(y_true, y_pred)
    return float(np.mean(np.abs(true - pred)))


def accuracy_within(y_true, y_pred, tolerance: float = 0.5) -> float:
    """Share of predictions within ``tolerance`` of the truth (the seed's "accuracy").

    :math:`\\frac{1}{N}\\sum_j [\\,|r_j - \\hat r_j| < \\text{tolerance}\\,]`. The
    seed computes it on the training data, where it measures memorisation,
    not how well the model predicts ratings it has not seen.
    """
    true, pred = _pair(y_true, y_pred)
    return float(np.mean(np.abs(true - pred) < tolerance))


def _ranking_users(
    recommended: Mapping[object, Sequence], relevant: Mapping[object, Collection], k: int
) -> tuple[list, dict, dict]:
    """The users that count, each one's top-K list, and each one's relevant set.

    Raises ``ValueError`` on ``k < 1``, when no user has a relevant item, when
    a user with relevant items has no recommendations, or when a top-K list
    repeats an item (it would count twice in DCG and push NDCG above 1).
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}.")
    users = [u for u, items in relevant.items() if len(items) > 0]
    if not users:
        raise ValueError("no user has a relevant item: ranking metrics are undefined.")
    missing = [u for u in users if u not in recommended]
    if missing:
        raise ValueError(f"no recommendations for user {missing[0]!r}, who has relevant items.")
    top = {u: list(recommended[u])[:k] for u in users}
    for u in users:
        if len(set(top[u])) < len(top[u]):
            repeated = next(item for j, item in enumerate(top[u]) if item in top[u][:j])
            raise ValueError(f"the top-{k} list of user {u!r} repeats item {repeated!r}.")
    return users, top, {u: set(relevant[u]) for u in users}


def precision_at_k(
    recommended: Mapping[object, Sequence], relevant: Mapping[object, Collection], k: int = 10
) -> float:
    """Mean over users of :math:`|\\text{top}_K(u) \\cap \\mathcal{R}_u| / K`.

    Args:
        recommended: user -> items in recommended order (best first).
        relevant: user -> the set of items relevant to that user.
        k: :math:`K`, the list length that counts.
    """
    users, top, rel = _ranking_users(recommended, relevant, k)
    return float(np.mean([len(set(top[u]) & rel[u]) / k for u in users]))


def recall_at_k(
    recommended: Mapping[object, Sequence], relevant: Mapping[object, Collection], k: int = 10
) -> float:
    """Mean over users of :math:`|\\text{top}_K(u) \\cap \\mathcal{R}_u| / |\\mathcal{R}_u|`."""
    users, top, rel = _ranking_users(recommended, relevant, k)
    return float(np.mean([len(set(top[u]) & rel[u]) / len(rel[u]) for u in users]))


def ndcg_at_k(
    recommended: Mapping[object, Sequence], relevant: Mapping[object, Collection], k: int = 10
) -> float:
    """Mean normalised discounted cumulative gain with binary relevance (Järvelin & Kekäläinen 2002).

    .. math:: \\text{DCG}_K(u) = \\sum_{j=1}^{K} \\frac{[\\text{item}_j \\in \\mathcal{R}_u]}{\\log_2(j + 1)},
        \\qquad \\text{NDCG}_K(u) = \\frac{\\text{DCG}_K(u)}{\\text{IDCG}_K(u)}

    where :math:`\\text{IDCG}_K(u)` is the DCG of a perfect list, with all
    :math:`\\min(K, |\\mathcal{R}_u|)` relevant items first.
    """
    users, top, rel = _ranking_users(recommended, relevant, k)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    scores = []
    for u in users:
        hits = np.array([item in rel[u] for item in top[u]], dtype=float)
        dcg = float((hits * discounts[: len(hits)]).sum())
        ideal = float(discounts[: min(k, len(rel[u]))].sum())
        scores.append(dcg / ideal)
    return float(np.mean(scores))
