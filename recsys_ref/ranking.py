"""Top-K recommendation and full-ranking evaluation for any model that scores all items.

A model is anything with the ranking contract of :mod:`recsys_ref.base`:
``score_items(user_ids) -> np.ndarray (len(user_ids), n_items)``, column
``j`` the score of item id ``j + 1``, higher is better, unclipped. Rating
predictors, the paradigm recommenders and the implicit-feedback models of
:mod:`recsys_ref.implicit` all have it.

**Full ranking.** Each user's candidates are *all* items they did not rate in
training (not a sample of 100 negatives: sampled metrics can reorder models,
Krichene & Rendle 2020, "On sampled metrics for item recommendation", KDD).
The model ranks every candidate, the top :math:`K` form the list, and the
relevant items :math:`\\mathcal R_u` are the user's held-out ratings of at
least ``threshold``.

**Ties** are never left to chance or to the sorting algorithm: by default an
equal score puts the lower item index (lower item id) first, which is stated
and reproducible; with a seed (``tie_seed``) or a generator, ties are broken
uniformly at random instead. Ranking on scores clipped to the rating range
creates ties (many items at 5.0) that the rule would then decide: rank on the
unclipped scores ``score_items`` returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from recsys_ref.metrics.beyond_accuracy import (
    average_recommended_popularity_per_user,
    catalogue_coverage,
    novelty_per_user,
)
from recsys_ref.metrics.ranking import (
    average_precision_at_k_per_user,
    hit_rate_at_k_per_user,
    ndcg_at_k_per_user,
    precision_at_k_per_user,
    recall_at_k_per_user,
)


@runtime_checkable
class ItemScorer(Protocol):
    """Anything that scores every item for a batch of users (see the module docstring)."""

    def score_items(self, user_ids) -> np.ndarray: ...


def _as_tensor(matrix, name: str) -> torch.Tensor:
    tensor = matrix if isinstance(matrix, torch.Tensor) else torch.as_tensor(np.asarray(matrix))
    if tensor.dim() != 2:
        raise ValueError(f"{name} must be a 2-D matrix (n_users, n_items), got shape {tuple(tensor.shape)}.")
    return tensor


def top_k(
    scores: torch.Tensor | np.ndarray,
    seen: torch.Tensor | np.ndarray,
    k: int,
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Each user's ``k`` best-scored items among those not seen in training.

    Args:
        scores: ``(n_users, n_items)`` float, higher is better; column ``i``
            is item index ``i`` (item id ``i + 1``). ``+inf`` and ``-inf`` are
            allowed (an unseen item scored ``-inf`` is still a candidate,
            ranked last); ``NaN`` is not.
        seen: ``(n_users, n_items)`` bool, True for the items each user
            interacted with in training; they are never returned.
        k: :math:`K \\ge 1`, the list length.
        generator: ``None`` (default) breaks ties between equal scores by
            **lower item index first**. A ``torch.Generator`` breaks them
            uniformly at random instead, independently per user (it draws
            ``n_users * n_items`` numbers).

    Returns:
        ``(n_users, k)`` int64 of 0-based item indices, best first. A user
        with fewer than ``k`` unseen items gets all of them, then **-1** in
        the remaining places (the row keeps width ``k``); a user who has seen
        every item gets a row of -1.

    Raises:
        ValueError: On ``k < 1``, shapes that differ or are not 2-D, a
            ``seen`` that is not boolean, or a ``NaN`` score (the message
            names the user row and the item index).
    """
    if int(k) != k or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}.")
    score_t = _as_tensor(scores, "scores")
    seen_t = _as_tensor(seen, "seen")
    if score_t.shape != seen_t.shape:
        raise ValueError(f"scores has shape {tuple(score_t.shape)} but seen has {tuple(seen_t.shape)}.")
    if seen_t.dtype != torch.bool:
        raise ValueError(f"seen must be boolean, got dtype {seen_t.dtype}.")
    nan = torch.isnan(score_t)
    if bool(nan.any()):
        row, item = (int(x) for x in nan.nonzero()[0])
        raise ValueError(f"the score of item index {item} for user row {row} is NaN: it cannot be ranked.")
    n_users, n_items = score_t.shape
    if generator is None:
        permutation = None
        key = score_t
    else:
        # A random order of the columns per user; the stable sort below then keeps tied
        # items in that random order.
        permutation = torch.rand((n_users, n_items), generator=generator).argsort(dim=1)
        key = score_t.gather(1, permutation)
    # Stable sort by score (descending), then stable sort by "seen" (unseen first): the
    # unseen items come first, by score, ties in column order.
    by_score = torch.sort(key, dim=1, descending=True, stable=True).indices
    seen_key = (seen_t if permutation is None else seen_t.gather(1, permutation)).gather(1, by_score)
    by_seen = torch.sort(seen_key.to(torch.uint8), dim=1, stable=True).indices
    order = by_score.gather(1, by_seen)
    if permutation is not None:
        order = permutation.gather(1, order)
    width = min(int(k), n_items)
    result = torch.full((n_users, int(k)), -1, dtype=torch.int64)
    result[:, :width] = order[:, :width]
    n_candidates = (~seen_t).sum(dim=1, keepdim=True)
    positions = torch.arange(int(k)).unsqueeze(0)
    return torch.where(positions < n_candidates, result, torch.tensor(-1, dtype=torch.int64))


@dataclass(frozen=True)
class RankingReport:
    """The result of :func:`evaluate_ranking`.

    Attributes:
        k: The list length :math:`K`.
        threshold: Held-out ratings ``>= threshold`` were the relevant items.
        per_user: One row per evaluated user (index ``user_id``, ascending):
            ``precision``, ``recall``, ``ndcg``, ``ap`` (average precision),
            ``hit_rate``, ``novelty`` (bits), ``arp`` (average recommended
            popularity, in training users), ``n_relevant`` and
            ``n_candidates`` (items not seen in training). Bootstrap these
            for intervals.
        top_k: ``(n_evaluated, k)`` int64, each evaluated user's list as
            0-based item indices (item id - 1), -1 for no item, rows in the
            order of ``per_user``.
        coverage: Catalogue coverage of these lists.
        n_items: Catalogue size (columns of ``score_items``).
    """

    k: int
    threshold: float
    per_user: pd.DataFrame
    top_k: np.ndarray
    coverage: float
    n_items: int

    def summary(self) -> dict[str, float]:
        """Means over the evaluated users, and the coverage.

        Keys, in this order: precision, recall, ndcg, map (the mean of ``ap``),
        hit_rate, coverage, novelty, arp.
        """
        means = self.per_user[["precision", "recall", "ndcg", "ap", "hit_rate", "novelty", "arp"]].mean()
        result = {name: float(value) for name, value in means.items()}
        result["map"] = result.pop("ap")
        result["coverage"] = self.coverage
        return {
            name: result[name]
            for name in ("precision", "recall", "ndcg", "map", "hit_rate", "coverage", "novelty", "arp")
        }


def _check_ids(frame: pd.DataFrame, name: str) -> None:
    for column in ("user_id", "item_id"):
        if column not in frame.columns:
            raise ValueError(f"the {name} frame has no column {column!r}.")
        values = frame[column].to_numpy()
        if not np.issubdtype(values.dtype, np.integer):
            raise ValueError(
                f"column {column!r} of the {name} frame must hold integer ids, got {values.dtype}."
            )
        if len(values) and values.min() < 1:
            label = frame.index[int(np.argmin(values))]
            raise ValueError(
                f"row {label!r} of the {name} frame has {column} {values.min()}; ids start at 1."
            )


def _pairs_csr(frame: pd.DataFrame, n_users: int, n_items: int) -> sp.csr_matrix:
    matrix = sp.csr_matrix(
        (
            np.ones(len(frame), dtype=np.float32),
            (frame["user_id"].to_numpy() - 1, frame["item_id"].to_numpy() - 1),
        ),
        shape=(n_users, n_items),
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def evaluate_ranking(
    model: ItemScorer,
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    k: int = 10,
    threshold: float = 4.0,
    n_items: int | None = None,
    batch_size: int = 256,
    tie_seed: int | None = None,
) -> RankingReport:
    """Full-ranking evaluation of a model's top-K lists against held-out positives.

    For each evaluated user :math:`u` (every user with at least one test
    rating ``>= threshold``, in increasing id order):

    1. the model scores all items (``model.score_items``), a batch of users
       at a time: memory is ``batch_size x n_items``, never all users x all items;
    2. the candidates are the items :math:`u` did **not** rate in ``train``
       (any rating counts as seen, whatever its value);
    3. :func:`top_k` picks the :math:`K` best candidates (ties: lower item
       index first, or at random with ``tie_seed``; -1 when fewer than
       :math:`K` candidates);
    4. :math:`\\mathcal R_u` = items :math:`u` rated ``>= threshold`` in ``test``,
       and the metrics of :mod:`recsys_ref.metrics` are computed per user.

    Beyond-accuracy measures use the evaluated users' lists and item
    popularity :math:`c_i` = number of users who rated :math:`i` in ``train``,
    with :math:`n` = number of users with a training rating.

    Args:
        model: Any object with ``score_items(user_ids)`` (see :class:`ItemScorer`).
        train, test: Rating frames with raw 1-based ``user_id``, ``item_id``
            and (``test``) ``rating``.
        k: :math:`K`.
        threshold: A test rating ``>= threshold`` is relevant.
        n_items: The catalogue size. When given, the model is called as
            ``score_items(user_ids, n_items=n_items)`` (the keyword of
            :meth:`recsys_ref.base.RatingPredictor.score_items`, so that items
            missing from ``train`` get a column too); when ``None``, as
            ``score_items(user_ids)`` and its width is the catalogue.
        batch_size: Users scored per call of ``score_items``.
        tie_seed: ``None`` for the lower-index tie rule; an int to break ties
            at random with ``torch.Generator().manual_seed(tie_seed)``.

    Returns:
        :class:`RankingReport` with per-user values, lists and means (``summary()``).

    Raises:
        ValueError: On a missing column or non-integer or non-positive id;
            when no user has a relevant test item; when an id lies beyond the
            model's ``n_items`` columns; when a relevant test pair also
            appears in ``train`` (it could never be recommended); when
            ``score_items`` returns the wrong shape or a NaN (the message
            names the user id); on ``k < 1`` or ``batch_size < 1``.
    """
    if k < 1 or batch_size < 1:
        raise ValueError(f"k and batch_size must be at least 1, got {k} and {batch_size}.")
    _check_ids(train, "train")
    _check_ids(test, "test")
    if "rating" not in test.columns:
        raise ValueError("the test frame has no column 'rating'.")
    relevant = test[test["rating"].to_numpy(dtype=float) >= threshold]
    if len(relevant) == 0:
        raise ValueError(f"no test rating is >= {threshold}: no user has a relevant item to find.")
    user_ids = np.unique(relevant["user_id"].to_numpy()).astype(np.int64)
    n_users = int(max(user_ids.max(), train["user_id"].max() if len(train) else 0))

    catalogue_given = n_items is not None

    def score(batch: np.ndarray) -> np.ndarray:
        if catalogue_given:
            return np.asarray(model.score_items(batch, n_items=n_items), dtype=np.float64)
        return np.asarray(model.score_items(batch), dtype=np.float64)

    if n_items is None:
        probe = score(user_ids[:1])
        if probe.ndim != 2 or probe.shape[0] != 1:
            raise ValueError(
                f"score_items([{user_ids[0]}]) returned shape {probe.shape}; expected (1, n_items)."
            )
        n_items = probe.shape[1]
    for frame, name in ((train, "train"), (test, "test")):
        if len(frame) and frame["item_id"].max() > n_items:
            label = frame.index[int(np.argmax(frame["item_id"].to_numpy()))]
            raise ValueError(
                f"row {label!r} of the {name} frame has item_id {frame['item_id'].max()}, "
                f"but the model scores only {n_items} items."
            )
    seen = _pairs_csr(train, n_users, n_items)
    held_out = _pairs_csr(relevant, n_users, n_items)
    overlap = seen.multiply(held_out)
    if overlap.nnz:
        row, col = overlap.nonzero()
        raise ValueError(
            f"user {row[0] + 1} has item {col[0] + 1} both in train and as a relevant test item: "
            "it could never be recommended. Remove duplicate pairs before splitting."
        )
    item_counts = np.asarray(seen.sum(axis=0)).reshape(-1)
    n_train_users = int((np.diff(seen.indptr) > 0).sum())
    generator = None if tie_seed is None else torch.Generator().manual_seed(tie_seed)

    columns: dict[str, list[np.ndarray]] = {
        name: [] for name in ("precision", "recall", "ndcg", "ap", "hit_rate", "novelty", "arp")
    }
    lists = []
    for start in range(0, len(user_ids), batch_size):
        batch = user_ids[start : start + batch_size]
        scores = score(batch)
        if scores.shape != (len(batch), n_items):
            raise ValueError(
                f"score_items returned shape {scores.shape} for {len(batch)} users; "
                f"expected ({len(batch)}, {n_items})."
            )
        nan_rows = np.isnan(scores).any(axis=1)
        if nan_rows.any():
            raise ValueError(f"score_items returned NaN scores for user {batch[nan_rows][0]}.")
        rows = batch - 1
        top = top_k(
            torch.from_numpy(scores), torch.from_numpy(seen[rows].toarray() > 0), k, generator=generator
        )
        held = torch.from_numpy(held_out[rows].toarray() > 0)
        columns["precision"].append(precision_at_k_per_user(top, held, k).numpy())
        columns["recall"].append(recall_at_k_per_user(top, held, k).numpy())
        columns["ndcg"].append(ndcg_at_k_per_user(top, held, k).numpy())
        columns["ap"].append(average_precision_at_k_per_user(top, held, k).numpy())
        columns["hit_rate"].append(hit_rate_at_k_per_user(top, held, k).numpy())
        columns["novelty"].append(novelty_per_user(top, item_counts, max(n_train_users, 1)).numpy())
        columns["arp"].append(average_recommended_popularity_per_user(top, item_counts).numpy())
        lists.append(top.numpy())

    per_user = pd.DataFrame({name: np.concatenate(parts) for name, parts in columns.items()})
    per_user.index = pd.Index(user_ids, name="user_id")
    per_user["n_relevant"] = np.diff(held_out.indptr)[user_ids - 1]
    per_user["n_candidates"] = n_items - np.diff(seen.indptr)[user_ids - 1]
    top_all = np.concatenate(lists)
    return RankingReport(
        k=k,
        threshold=threshold,
        per_user=per_user,
        top_k=top_all,
        coverage=catalogue_coverage(torch.from_numpy(top_all), n_items),
        n_items=n_items,
    )
