"""Beyond-accuracy measures of recommended lists: coverage, novelty, popularity bias.

Accuracy metrics reward lists of items the user went on to rate, and users
rate popular items (the data are missing not at random), so a list of
blockbusters scores well. These measures describe the lists themselves:

- **catalogue coverage** :math:`|\\bigcup_u L_u| \\,/\\, |I|` (Ge,
  Delgado-Battenfeld & Jannach 2010);
- **novelty**, the mean self-information :math:`\\frac{1}{|L_u|}\\sum_{i \\in
  L_u} -\\log_2 p_i` with :math:`p_i = \\max(c_i, 1) / n` (Zhou et al. 2010;
  Castells, Hurley & Vargas 2015);
- **popularity bias**, the average recommended popularity
  :math:`\\frac{1}{|L_u|}\\sum_{i \\in L_u} c_i` (ARP; Abdollahpouri, Burke &
  Mobasher 2019);

where :math:`I` is the catalogue, :math:`L_u` the list of user :math:`u`
(without padding), :math:`c_i` the number of training users who interacted
with item :math:`i` and :math:`n` the number of training users. Lists use
the tensor form of :mod:`recsys_ref.metrics.ranking`: ``(n_users, K)``
0-based item indices, ``-1`` for no item.
"""

from __future__ import annotations

import numpy as np
import torch

from recsys_ref.metrics.ranking import Matrix, _as_top_k, check_top_k


def _lists(top_k: Matrix, n_items: int) -> torch.Tensor:
    top, _ = _as_top_k(top_k, None)
    check_top_k(top, n_items)
    return top


def _as_counts(item_counts: Matrix) -> torch.Tensor:
    counts = torch.as_tensor(
        np.asarray(item_counts) if not isinstance(item_counts, torch.Tensor) else item_counts
    ).to(torch.float64)
    if counts.dim() != 1:
        raise ValueError(f"item_counts must be 1-D (n_items,), got shape {tuple(counts.shape)}.")
    if bool((counts < 0).any()) or bool(torch.isnan(counts).any()):
        raise ValueError("item_counts must be counts >= 0.")
    return counts


def _mean_over_list(top: torch.Tensor, per_item: torch.Tensor) -> torch.Tensor:
    valid = top >= 0
    values = torch.where(valid, per_item[top.clamp(min=0)], torch.zeros((), dtype=torch.float64))
    length = valid.sum(dim=1)
    mean = values.sum(dim=1) / length.clamp(min=1)
    return torch.where(length > 0, mean, torch.tensor(float("nan"), dtype=torch.float64))


def catalogue_coverage(top_k: Matrix, n_items: int) -> float:
    """Share of the catalogue that appears in at least one list.

    .. math:: \\text{coverage} = \\frac{|\\bigcup_u \\text{top}_K(u)|}{|I|}

    "Catalog coverage" of Ge, Delgado-Battenfeld & Jannach (2010), "Beyond
    accuracy: evaluating recommender systems by coverage and serendipity",
    RecSys; Herlocker et al. (2004). Popularity, one list for everybody,
    covers little more than :math:`K` items.

    Args:
        top_k: ``(n_users, K)`` 0-based item indices, ``-1`` for no item.
        n_items: :math:`|I|`, the catalogue size (at least 1).

    Returns:
        A share in [0, 1]; 0 when every list is empty.

    Raises:
        ValueError: On ``n_items < 1`` or an invalid ``top_k`` (see
            :func:`~recsys_ref.metrics.ranking.check_top_k`).
    """
    if n_items < 1:
        raise ValueError(f"n_items must be at least 1, got {n_items}.")
    top = _lists(top_k, n_items)
    return float(torch.unique(top[top >= 0]).numel() / n_items)


def novelty_per_user(top_k: Matrix, item_counts: Matrix, n_users: int) -> torch.Tensor:
    """Mean self-information of each list's items, in bits.

    .. math:: \\text{novelty}(u) = \\frac{1}{|L_u|}\\sum_{i \\in L_u} -\\log_2 p_i,
        \\qquad p_i = \\frac{\\max(c_i, 1)}{n}

    :math:`p_i` is the share of training users who interacted with item
    :math:`i`, so an item everybody knows has novelty 0 and a rarer one more
    (Zhou et al. 2010, "Solving the apparent diversity-accuracy dilemma of
    recommender systems", PNAS; Castells, Hurley & Vargas 2015, "Novelty and
    diversity in recommender systems", Recommender Systems Handbook). An item
    no training user interacted with counts as interacted with by one, so its
    self-information is :math:`\\log_2 n`, the largest finite value, instead
    of infinity.

    Args:
        top_k: ``(n_users_rows, K)`` 0-based item indices, ``-1`` for no item.
        item_counts: ``(n_items,)`` :math:`c_i`, training users per item.
        n_users: :math:`n`, the number of training users (at least
            ``max(item_counts)`` and at least 1).

    Returns:
        float64 ``(n_users_rows,)``, ``NaN`` for an empty list.

    Raises:
        ValueError: On counts that are negative or above ``n_users``, or an
            invalid ``top_k``.
    """
    counts = _as_counts(item_counts)
    if n_users < 1 or bool((counts > n_users).any()):
        raise ValueError(f"n_users ({n_users}) must be at least 1 and at least every item count.")
    top = _lists(top_k, counts.numel())
    self_information = -torch.log2(counts.clamp(min=1.0) / n_users)
    return _mean_over_list(top, self_information)


def average_recommended_popularity_per_user(top_k: Matrix, item_counts: Matrix) -> torch.Tensor:
    """Mean popularity of each list's items (popularity bias of the lists).

    .. math:: \\text{ARP}(u) = \\frac{1}{|L_u|}\\sum_{i \\in L_u} c_i

    The "average recommendation popularity" of Abdollahpouri, Burke &
    Mobasher (2019), "Managing popularity bias in recommender systems with
    personalized re-ranking", FLAIRS; its mean over users is their ARP.

    Args:
        top_k: ``(n_users_rows, K)`` 0-based item indices, ``-1`` for no item.
        item_counts: ``(n_items,)`` :math:`c_i`, training users per item.

    Returns:
        float64 ``(n_users_rows,)`` in the unit of ``item_counts`` (users),
        ``NaN`` for an empty list.

    Raises:
        ValueError: On negative counts or an invalid ``top_k``.
    """
    counts = _as_counts(item_counts)
    return _mean_over_list(_lists(top_k, counts.numel()), counts)
