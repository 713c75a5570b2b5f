"""What runs in a student's kernel for grading: the recorders, the substitutes, the guard.

This package is the *kernel side* of grading. The instructor's side (intake,
sandbox, scheduling, scoring, feedback, exports) is the separate top-level
package ``grader``, which never runs student code and decides every score.

* The hidden tests of the assignments call the ``record_*`` functions: each
  runs the student's piece on the grader's probe (fresh inputs chosen by the
  grader for each submission) and writes a record of what happened, as data
  (:mod:`recsys_ref.grading.exchange`). Outside grading they do nothing.
* The provided cells call :func:`usable_factors` and :func:`training_pieces`
  (:mod:`recsys_ref.grading.substitutes`), which put working pieces in place
  of broken ones so that each task can be worked on and graded on its own.
* :mod:`recsys_ref.grading.guard` is an IPython extension the grading kernel
  loads: it undoes monkeypatching after each cell and logs attempts.

Nothing here imports the reference implementations of the graded tasks at
import time: in the grading sandbox they are not even installed.

Assignment ``mf``: :func:`record_factors`, :func:`record_optimizer`,
:func:`record_calc_loss`, :func:`record_estimate`, :func:`record_to_rating_range`.

Assignment ``deep``: :func:`record_recommender_net_init`, :func:`record_recommender_net_forward`.

Assignment ``rank``: :func:`record_interactions`, :func:`record_negatives`,
:func:`record_bpr_loss`, :func:`record_l2_penalty`, :func:`record_bpr_model`,
:func:`record_top_k`, :func:`record_recall`, :func:`record_ndcg`; the training
cell's :func:`ranking_pieces` (see :mod:`recsys_ref.grading.rank`).
"""

from recsys_ref.grading.deep import record_recommender_net_forward, record_recommender_net_init
from recsys_ref.grading.mf import (
    record_calc_loss,
    record_estimate,
    record_factors,
    record_optimizer,
    record_to_rating_range,
)
from recsys_ref.grading.rank import (
    RankingPieces,
    ranking_pieces,
    record_bpr_loss,
    record_bpr_model,
    record_interactions,
    record_l2_penalty,
    record_ndcg,
    record_negatives,
    record_recall,
    record_top_k,
)
from recsys_ref.grading.substitutes import TrainingPieces, factors_usable, training_pieces, usable_factors

__all__ = [
    "RankingPieces",
    "TrainingPieces",
    "factors_usable",
    "ranking_pieces",
    "record_bpr_loss",
    "record_bpr_model",
    "record_calc_loss",
    "record_estimate",
    "record_factors",
    "record_interactions",
    "record_l2_penalty",
    "record_ndcg",
    "record_negatives",
    "record_optimizer",
    "record_recall",
    "record_recommender_net_forward",
    "record_recommender_net_init",
    "record_to_rating_range",
    "record_top_k",
    "training_pieces",
    "usable_factors",
]
