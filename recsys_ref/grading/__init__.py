"""Grading checks for the course's nbgrader assignments, written and tested once.

The hidden tests of ``solutions/mf/mf.ipynb`` and ``solutions/deep/deep.ipynb``
call these functions. Each compares the student's work with the reference
implementation (:mod:`recsys_ref.mf`, :mod:`recsys_ref.nn`) on fresh random
inputs and configurations, checks types before values (an object that claims
to equal everything does not pass), and raises one :class:`AssertionError`
whose message names the task, what was expected, what was found and the
likely cause.

Assignment ``mf``:
    :func:`check_factors`, :func:`check_optimizer`, :func:`check_calc_loss`,
    :func:`check_estimate`, :func:`check_to_rating_range`,
    :func:`check_training_reduced_loss`; the provided cells use
    :func:`usable_factors` and :func:`training_pieces` (reference pieces in
    place of failing ones, so that each task is graded on its own).

Assignment ``deep``:
    :func:`check_recommender_net_init`, :func:`check_recommender_net_forward`.

Instructor tooling (needs nbgrader): :mod:`recsys_ref.grading.feedback` (the
feedback preprocessor that hides hidden tests and tracebacks) and
:mod:`recsys_ref.grading.report` (per-student, per-task summaries).
"""

from recsys_ref.grading.mf_checks import (
    check_calc_loss,
    check_estimate,
    check_factors,
    check_optimizer,
    check_to_rating_range,
    check_training_reduced_loss,
)
from recsys_ref.grading.training import TrainingPieces, training_pieces, usable_factors
from recsys_ref.grading.nn_checks import (
    check_recommender_net_forward,
    check_recommender_net_init,
    find_modules,
)

__all__ = [
    "check_calc_loss",
    "check_estimate",
    "check_factors",
    "check_optimizer",
    "check_recommender_net_forward",
    "check_recommender_net_init",
    "check_to_rating_range",
    "check_training_reduced_loss",
    "find_modules",
    "TrainingPieces",
    "training_pieces",
    "usable_factors",
]
