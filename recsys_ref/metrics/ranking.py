"""Top-K ranking metrics: how good each user's recommended list is.

Notation. For a user :math:`u`, :math:`\\text{top}_K(u)` is the list of the
:math:`K` recommended items, best first, and :math:`\\mathcal{R}_u` the set of
items relevant to :math:`u` (the book's choice: the items :math:`u` rated 4 or
more in the test part). :math:`\\text{rel}_j = [\\text{item at rank } j \\in
\\mathcal{R}_u]` is 1 for a hit at rank :math:`j` (ranks start at 1) and 0
otherwise. Every metric lies in [0, 1] and is averaged over the users with at
least one relevant item (the others have nothing to find).

=================  ==========================================================================
precision@K        :math:`\\frac{1}{K}\\sum_{j=1}^{K} \\text{rel}_j`
recall@K           :math:`\\frac{1}{|\\mathcal{R}_u|}\\sum_{j=1}^{K} \\text{rel}_j`
hit rate@K         :math:`[\\sum_{j=1}^{K} \\text{rel}_j > 0]`
NDCG@K             :math:`\\text{DCG}_K / \\text{IDCG}_K`, :math:`\\text{DCG}_K = \\sum_{j=1}^{K}
                   \\text{rel}_j / \\log_2(j + 1)` and :math:`\\text{IDCG}_K` the DCG of a list
                   with :math:`\\min(K, |\\mathcal{R}_u|)` hits first
AP@K (MAP@K)       :math:`\\frac{1}{\\min(K, |\\mathcal{R}_u|)}\\sum_{j=1}^{K}
                   \\text{rel}_j \\cdot \\text{precision@}j`
=================  ==========================================================================

Each metric comes in two forms with one definition underneath:

- the **tensor form** ``*_per_user(top_k, held_out, k)``, with a matrix of
  0-based item indices ``top_k`` (one row per user, ``-1`` for "no item") and
  a boolean matrix ``held_out`` (``held_out[u, i]`` is True when item index
  ``i`` is relevant to user row ``u``). It returns one value per user row,
  ``NaN`` for a user with no relevant item, so that per-user values can be
  bootstrapped; :func:`mean_over_users` averages them;
- the **dict form** ``*_at_k(recommended, relevant, k)``, with any item
  labels (raw ids, titles) as ``user -> list`` and ``user -> set``. It turns
  the dicts into the tensor form and returns the mean over users with at
  least one relevant item.

Lists may be shorter than :math:`K` (padding ``-1`` in the tensor form): the
missing places are misses, and precision still divides by :math:`K`. A list
that repeats an item raises a ``ValueError`` naming the user (the item would
count twice and NDCG could exceed 1); repeats in :math:`\\mathcal{R}_u` count
once.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

import numpy as np
import torch

Matrix = torch.Tensor | np.ndarray


# --- checks and conversions ----------------------------------------------------------------


def _as_top_k(top_k: Matrix, k: int | None) -> tuple[torch.Tensor, int]:
    top = torch.as_tensor(np.asarray(top_k) if not isinstance(top_k, torch.Tensor) else top_k)
    if top.dim() != 2:
        raise ValueError(f"top_k must be a 2-D matrix (n_users, K), got shape {tuple(top.shape)}.")
    if top.is_floating_point() or top.is_complex() or top.dtype == torch.bool:
        raise ValueError(f"top_k must hold integer item indices, got dtype {top.dtype}.")
    top = top.to(torch.int64)
    width = top.shape[1]
    k = width if k is None else int(k)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}.")
    if k < width:
        top = top[:, :k]
    elif k > width:
        top = torch.cat([top, torch.full((top.shape[0], k - width), -1, dtype=torch.int64)], dim=1)
    return top, k


def _as_held_out(held_out: Matrix) -> torch.Tensor:
    held = torch.as_tensor(np.asarray(held_out) if not isinstance(held_out, torch.Tensor) else held_out)
    if held.dim() != 2:
        raise ValueError(f"held_out must be a 2-D matrix (n_users, n_items), got shape {tuple(held.shape)}.")
    if held.dtype != torch.bool:
        if not bool(((held == 0) | (held == 1)).all()):
            raise ValueError("held_out must be boolean (or hold only 0 and 1).")
        held = held != 0
    return held


def check_top_k(top_k: torch.Tensor, n_items: int) -> None:
    """Refuse a top-K index matrix that is not a valid set of lists.

    Args:
        top_k: ``(n_users, K)`` int64, 0-based item indices, ``-1`` for no item.
        n_items: Number of items; valid indices are ``0 .. n_items - 1``.

    Raises:
        ValueError: When an entry is below -1 or at least ``n_items``, when an
            item follows a ``-1`` in its row (padding must come last), or when
            a row repeats an item. The message names the row and the item.
    """
    bad = (top_k < -1) | (top_k >= n_items)
    if bool(bad.any()):
        row, col = (int(x) for x in bad.nonzero()[0])
        raise ValueError(
            f"top_k[{row}, {col}] = {int(top_k[row, col])} is not an item index "
            f"(0 .. {n_items - 1}) nor -1 (no item)."
        )
    valid = top_k >= 0
    after_gap = valid[:, 1:] & ~valid[:, :-1]
    if bool(after_gap.any()):
        row, col = (int(x) for x in after_gap.nonzero()[0])
        raise ValueError(
            f"row {row} of top_k has an item after a -1 (at column {col + 1}): padding must come last."
        )
    ordered = top_k.sort(dim=1).values
    repeated = (ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] >= 0)
    if bool(repeated.any()):
        row, col = (int(x) for x in repeated.nonzero()[0])
        raise ValueError(f"row {row} of top_k repeats item index {int(ordered[row, col + 1])}.")


def _prepare(
    top_k: Matrix, held_out: Matrix, k: int | None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """(hits (n_users, k) bool, n_relevant (n_users,) int64, has_relevant bool, k)."""
    held = _as_held_out(held_out)
    top, k = _as_top_k(top_k, k)
    if top.shape[0] != held.shape[0]:
        raise ValueError(f"top_k has {top.shape[0]} rows (users) but held_out has {held.shape[0]}.")
    check_top_k(top, held.shape[1])
    hits = held.gather(1, top.clamp(min=0)) & (top >= 0)
    n_relevant = held.sum(dim=1)
    return hits, n_relevant, n_relevant > 0, k


def _per_user(values: torch.Tensor, has_relevant: torch.Tensor) -> torch.Tensor:
    return torch.where(
        has_relevant, values.to(torch.float64), torch.tensor(float("nan"), dtype=torch.float64)
    )


def _discounts(k: int) -> torch.Tensor:
    """:math:`1 / \\log_2(j + 1)` for ranks :math:`j = 1 .. k`, float64 (k,)."""
    return 1.0 / torch.log2(torch.arange(2, k + 2, dtype=torch.float64))


# --- tensor form ---------------------------------------------------------------------------


def hits_at_k(top_k: Matrix, held_out: Matrix, k: int | None = None) -> torch.Tensor:
    """Which places of each list hold a relevant item.

    Args:
        top_k: ``(n_users, W)`` integer matrix of 0-based item indices (item id
            - 1), best first; ``-1`` marks "no item" and may only come after
            the items of its row.
        held_out: ``(n_users, n_items)`` bool; ``held_out[u, i]`` is True when
            item index ``i`` is relevant to user row ``u``.
        k: :math:`K`, the list length that counts (default ``W``). Columns
            beyond ``k`` are ignored; when ``k > W`` the rows count as padded
            with ``-1``.

    Returns:
        ``(n_users, k)`` bool, :math:`\\text{rel}_j` for :math:`j = 1..K`;
        False at padding.

    Raises:
        ValueError: On ``k < 1``, shapes that do not match, an index outside
            ``-1 .. n_items - 1``, an item after padding, or a repeated item in
            the first ``k`` places (the message names the row).
    """
    return _prepare(top_k, held_out, k)[0]


def precision_at_k_per_user(top_k: Matrix, held_out: Matrix, k: int | None = None) -> torch.Tensor:
    """Per-user precision@K, :math:`|\\text{top}_K(u) \\cap \\mathcal{R}_u| / K`.

    Arguments and errors as :func:`hits_at_k`. Returns float64 ``(n_users,)``,
    ``NaN`` for a user without relevant items. A list shorter than :math:`K`
    still divides by :math:`K`.
    """
    hits, _, has_relevant, k = _prepare(top_k, held_out, k)
    return _per_user(hits.sum(dim=1).to(torch.float64) / k, has_relevant)


def recall_at_k_per_user(top_k: Matrix, held_out: Matrix, k: int | None = None) -> torch.Tensor:
    """Per-user recall@K, :math:`|\\text{top}_K(u) \\cap \\mathcal{R}_u| / |\\mathcal{R}_u|`.

    The denominator is all of :math:`|\\mathcal{R}_u|`, so a user with more
    than :math:`K` relevant items cannot reach 1. Arguments and errors as
    :func:`hits_at_k`. Returns float64 ``(n_users,)``, ``NaN`` for a user
    without relevant items.
    """
    hits, n_relevant, has_relevant, _ = _prepare(top_k, held_out, k)
    return _per_user(hits.sum(dim=1).to(torch.float64) / n_relevant.clamp(min=1), has_relevant)


def hit_rate_at_k_per_user(top_k: Matrix, held_out: Matrix, k: int | None = None) -> torch.Tensor:
    """Per-user hit rate@K: 1 when the list holds at least one relevant item, else 0.

    Also called HR@K or Success@K (Deshpande & Karypis 2004, "Item-based top-N
    recommendation algorithms"). Arguments and errors as :func:`hits_at_k`.
    Returns float64 ``(n_users,)``, ``NaN`` for a user without relevant items.
    """
    hits, _, has_relevant, _ = _prepare(top_k, held_out, k)
    return _per_user(hits.any(dim=1), has_relevant)


def ndcg_at_k_per_user(top_k: Matrix, held_out: Matrix, k: int | None = None) -> torch.Tensor:
    """Per-user NDCG@K with binary gains (Järvelin & Kekäläinen 2002).

    .. math:: \\text{DCG}_K(u) = \\sum_{j=1}^{K} \\frac{\\text{rel}_j}{\\log_2(j + 1)},
        \\qquad \\text{NDCG}_K(u) = \\frac{\\text{DCG}_K(u)}{\\text{IDCG}_K(u)},
        \\qquad \\text{IDCG}_K(u) = \\sum_{j=1}^{\\min(K, |\\mathcal{R}_u|)} \\frac{1}{\\log_2(j + 1)}

    Arguments and errors as :func:`hits_at_k`. Returns float64
    ``(n_users,)`` in [0, 1], ``NaN`` for a user without relevant items.
    """
    hits, n_relevant, has_relevant, k = _prepare(top_k, held_out, k)
    discounts = _discounts(k)
    dcg = (hits.to(torch.float64) * discounts).sum(dim=1)
    ideal = torch.cat([torch.zeros(1, dtype=torch.float64), discounts.cumsum(0)])[n_relevant.clamp(max=k)]
    return _per_user(dcg / ideal.clamp(min=1.0), has_relevant)


def average_precision_at_k_per_user(top_k: Matrix, held_out: Matrix, k: int | None = None) -> torch.Tensor:
    """Per-user average precision AP@K; its mean over users is MAP@K.

    .. math:: \\text{AP}_K(u) = \\frac{1}{\\min(K, |\\mathcal{R}_u|)}
        \\sum_{j=1}^{K} \\text{rel}_j \\cdot \\text{precision@}j(u)

    The precision at each hit's rank, averaged over the hits a perfect list
    would have (Manning, Raghavan & Schütze 2008, sec. 8.4, truncated at
    :math:`K`). Dividing by :math:`\\min(K, |\\mathcal{R}_u|)` makes a perfect
    list score 1, as in the ``implicit`` library's ``mean_average_precision_at_k``;
    ``trec_eval``'s ``map_cut_K`` divides by :math:`|\\mathcal{R}_u|` instead.
    Arguments and errors as :func:`hits_at_k`. Returns float64 ``(n_users,)``
    in [0, 1], ``NaN`` for a user without relevant items.
    """
    hits, n_relevant, has_relevant, k = _prepare(top_k, held_out, k)
    hit = hits.to(torch.float64)
    precision_at_rank = hit.cumsum(dim=1) / torch.arange(1, k + 1, dtype=torch.float64)
    total = (hit * precision_at_rank).sum(dim=1)
    return _per_user(total / n_relevant.clamp(min=1, max=k), has_relevant)


def mean_over_users(per_user: Matrix) -> float:
    """Mean of per-user values, leaving out the ``NaN`` of users without relevant items.

    Raises:
        ValueError: When every value is ``NaN`` (no user has a relevant item)
            or there are none.
    """
    values = torch.as_tensor(
        np.asarray(per_user, dtype=float) if not isinstance(per_user, torch.Tensor) else per_user
    )
    values = values.to(torch.float64).reshape(-1)
    defined = values[~torch.isnan(values)]
    if defined.numel() == 0:
        raise ValueError("no user has a relevant item: ranking metrics are undefined.")
    return float(defined.mean())


# --- dict form -----------------------------------------------------------------------------


def _dicts_to_tensors(
    recommended: Mapping[object, Sequence], relevant: Mapping[object, Collection], k: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The tensor form of the users with relevant items: (top_k (n, k), held_out (n, n_labels)).

    Raises ``ValueError`` on ``k < 1``, when no user has a relevant item, when
    a user with relevant items has no recommendations, or when a top-K list
    repeats an item.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}.")
    users = [u for u, items in relevant.items() if len(items) > 0]
    if not users:
        raise ValueError("no user has a relevant item: ranking metrics are undefined.")
    missing = [u for u in users if u not in recommended]
    if missing:
        raise ValueError(f"no recommendations for user {missing[0]!r}, who has relevant items.")
    index: dict[object, int] = {}
    tops, rels = [], []
    for u in users:
        top = list(recommended[u])[:k]
        seen: set = set()
        for item in top:
            if item in seen:
                raise ValueError(f"the top-{k} list of user {u!r} repeats item {item!r}.")
            seen.add(item)
        tops.append([index.setdefault(item, len(index)) for item in top])
        rels.append([index.setdefault(item, len(index)) for item in set(relevant[u])])
    top_k = torch.full((len(users), k), -1, dtype=torch.int64)
    held_out = torch.zeros((len(users), len(index)), dtype=torch.bool)
    for row, (top, rel) in enumerate(zip(tops, rels)):
        top_k[row, : len(top)] = torch.tensor(top, dtype=torch.int64)
        held_out[row, rel] = True
    return top_k, held_out


def _dict_mean(
    per_user: Callable[..., torch.Tensor],
    recommended: Mapping[object, Sequence],
    relevant: Mapping[object, Collection],
    k: int,
) -> float:
    top_k, held_out = _dicts_to_tensors(recommended, relevant, k)
    return mean_over_users(per_user(top_k, held_out, k))


def precision_at_k(
    recommended: Mapping[object, Sequence], relevant: Mapping[object, Collection], k: int = 10
) -> float:
    """Mean over users of :math:`|\\text{top}_K(u) \\cap \\mathcal{R}_u| / K`.

    The dict form of :func:`precision_at_k_per_user`.

    Args:
        recommended: user -> items in recommended order (best first); any
            hashable labels. Only the first ``k`` count; a shorter list's
            missing places are misses (precision still divides by ``k``).
            Users without relevant items may be absent.
        relevant: user -> the items relevant to that user (repeats count once).
        k: :math:`K`, the list length that counts.

    Returns:
        The mean over the users with at least one relevant item.

    Raises:
        ValueError: On ``k < 1``; when no user has a relevant item; when a user
            with relevant items has no list; when a list repeats an item in its
            first ``k`` places (the message names the user and the item).
    """
    return _dict_mean(precision_at_k_per_user, recommended, relevant, k)


def recall_at_k(
    recommended: Mapping[object, Sequence], relevant: Mapping[object, Collection], k: int = 10
) -> float:
    """Mean over users of :math:`|\\text{top}_K(u) \\cap \\mathcal{R}_u| / |\\mathcal{R}_u|`.

    The dict form of :func:`recall_at_k_per_user`; arguments, result and
    errors as :func:`precision_at_k`.
    """
    return _dict_mean(recall_at_k_per_user, recommended, relevant, k)


def ndcg_at_k(
    recommended: Mapping[object, Sequence], relevant: Mapping[object, Collection], k: int = 10
) -> float:
    """Mean NDCG@K with binary gains (Järvelin & Kekäläinen 2002).

    .. math:: \\text{DCG}_K(u) = \\sum_{j=1}^{K} \\frac{[\\text{item}_j \\in \\mathcal{R}_u]}{\\log_2(j + 1)},
        \\qquad \\text{NDCG}_K(u) = \\frac{\\text{DCG}_K(u)}{\\text{IDCG}_K(u)}

    where :math:`\\text{IDCG}_K(u)` is the DCG of a perfect list, with all
    :math:`\\min(K, |\\mathcal{R}_u|)` relevant items first. The dict form of
    :func:`ndcg_at_k_per_user`; arguments, result and errors as
    :func:`precision_at_k`.
    """
    return _dict_mean(ndcg_at_k_per_user, recommended, relevant, k)


def map_at_k(
    recommended: Mapping[object, Sequence], relevant: Mapping[object, Collection], k: int = 10
) -> float:
    """Mean average precision MAP@K, each AP normalised by :math:`\\min(K, |\\mathcal{R}_u|)`.

    The dict form of :func:`average_precision_at_k_per_user`; arguments,
    result and errors as :func:`precision_at_k`.
    """
    return _dict_mean(average_precision_at_k_per_user, recommended, relevant, k)


def hit_rate_at_k(
    recommended: Mapping[object, Sequence], relevant: Mapping[object, Collection], k: int = 10
) -> float:
    """Share of users whose top-K list holds at least one relevant item (HR@K).

    The dict form of :func:`hit_rate_at_k_per_user`; arguments, result and
    errors as :func:`precision_at_k`.
    """
    return _dict_mean(hit_rate_at_k_per_user, recommended, relevant, k)
