"""Ranking from implicit feedback: interactions, negative sampling, BPR-MF, iALS, item-kNN, popularity.

- :mod:`~recsys_ref.implicit.interactions`: ratings -> 0/1 interaction matrix
  (dense tensor or SciPy CSR) under a positive threshold.
- :mod:`~recsys_ref.implicit.sampling`: uniform negative sampling.
- :mod:`~recsys_ref.implicit.bpr`: the BPR loss, :class:`BPRModel`, :func:`train_bpr`
  and the recommender :class:`BPRMF` (Rendle et al. 2009).
- :mod:`~recsys_ref.implicit.als`: :class:`IALS`, weighted MF by alternating
  least squares (Hu, Koren & Volinsky 2008).
- :mod:`~recsys_ref.implicit.neighbours`: :class:`ItemKNN` (Deshpande & Karypis 2004).
- :mod:`~recsys_ref.implicit.popularity`: :class:`Popularity`.
- :mod:`~recsys_ref.implicit.peers`: the ``implicit`` library's ALS and BPR behind
  the same contract, for the comparisons in the tests and benchmarks (not
  imported here: it needs that library).

Every recommender has ``fit(ratings, n_users=, n_items=)`` and
``score_items(user_ids)``; evaluate them with
:func:`recsys_ref.ranking.evaluate_ranking`. The tuned settings
(:data:`BPR_TUNED`, :data:`IALS_TUNED`, :data:`ITEM_KNN_TUNED`) were chosen on a
validation part of the training data; each record's comment says how.
"""

from recsys_ref.implicit.als import IALS, IALS_TUNED, IALSSettings, als_half_sweep, ials_loss
from recsys_ref.implicit.bpr import (
    BPR_TUNED,
    BPRMF,
    BPRHistory,
    BPRModel,
    BPRSettings,
    batch_l2,
    bpr_loss,
    train_bpr,
)
from recsys_ref.implicit.interactions import as_csr, interaction_matrix, interaction_matrix_csr
from recsys_ref.implicit.neighbours import ITEM_KNN_TUNED, ItemKNN, ItemKNNSettings, cosine_item_neighbours
from recsys_ref.implicit.popularity import Popularity
from recsys_ref.implicit.recommender import ImplicitRecommender
from recsys_ref.implicit.sampling import NegativeSampler, sample_negatives

__all__ = [
    "BPRMF",
    "BPR_TUNED",
    "IALS",
    "IALS_TUNED",
    "ITEM_KNN_TUNED",
    "BPRHistory",
    "BPRModel",
    "BPRSettings",
    "IALSSettings",
    "ItemKNNSettings",
    "ImplicitRecommender",
    "ItemKNN",
    "NegativeSampler",
    "Popularity",
    "als_half_sweep",
    "as_csr",
    "batch_l2",
    "bpr_loss",
    "cosine_item_neighbours",
    "ials_loss",
    "interaction_matrix",
    "interaction_matrix_csr",
    "sample_negatives",
    "train_bpr",
]
