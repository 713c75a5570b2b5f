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

Assignment ``rank``: see :mod:`recsys_ref.grading.rank`.
"""

from recsys_ref.grading.deep import record_recommender_net_forward, record_recommender_net_init
from recsys_ref.grading.mf import (
    record_calc_loss,
    record_estimate,
    record_factors,
    record_optimizer,
    record_to_rating_range,
)
from recsys_ref.grading.substitutes import TrainingPieces, factors_usable, training_pieces, usable_factors

__all__ = [
    "TrainingPieces",
    "factors_usable",
    "record_calc_loss",
    "record_estimate",
    "record_factors",
    "record_optimizer",
    "record_recommender_net_forward",
    "record_recommender_net_init",
    "record_to_rating_range",
    "training_pieces",
    "usable_factors",
]
