"""Metrics: rating errors, top-K ranking accuracy, and beyond-accuracy measures of lists.

- :mod:`recsys_ref.metrics.rating`: :func:`rmse`, :func:`mae`, :func:`accuracy_within`.
- :mod:`recsys_ref.metrics.ranking`: precision, recall, NDCG, MAP and hit rate
  at :math:`K`, each in a dict form (``*_at_k``, the mean over users) and a
  tensor form (``*_per_user``, one value per user) with one definition.
- :mod:`recsys_ref.metrics.beyond_accuracy`: catalogue coverage, novelty and
  average recommended popularity.

Every name is importable from :mod:`recsys_ref.metrics` itself.
"""

from recsys_ref.metrics.beyond_accuracy import (
    average_recommended_popularity_per_user,
    catalogue_coverage,
    novelty_per_user,
)
from recsys_ref.metrics.ranking import (
    average_precision_at_k_per_user,
    check_top_k,
    hit_rate_at_k,
    hit_rate_at_k_per_user,
    hits_at_k,
    map_at_k,
    mean_over_users,
    ndcg_at_k,
    ndcg_at_k_per_user,
    precision_at_k,
    precision_at_k_per_user,
    recall_at_k,
    recall_at_k_per_user,
)
from recsys_ref.metrics.rating import accuracy_within, mae, rmse

__all__ = [
    "accuracy_within",
    "average_precision_at_k_per_user",
    "average_recommended_popularity_per_user",
    "catalogue_coverage",
    "check_top_k",
    "hit_rate_at_k",
    "hit_rate_at_k_per_user",
    "hits_at_k",
    "mae",
    "map_at_k",
    "mean_over_users",
    "ndcg_at_k",
    "ndcg_at_k_per_user",
    "novelty_per_user",
    "precision_at_k",
    "precision_at_k_per_user",
    "recall_at_k",
    "recall_at_k_per_user",
    "rmse",
]
