"""The course's original notebook, its code as written: the single copy of its buggy models.

The book shows this code (``inspect.getsource`` or ``literalinclude``) and
runs it by import, and ``benchmarks/quality.py`` measures it, so all three
use the same lines. It lives outside :mod:`recsys_ref` on purpose: these
versions are kept only to show and measure what their bugs cost; the
reference implementation is :mod:`recsys_ref`. The notebook itself is
``recommender_systems_notebook`` of the course materials.

Each function wraps one or more of the notebook's cells with the least
change needed to call it: inputs become arguments, results are returned
instead of left in global variables or written to files, and ``.to(device)``
is dropped (everything runs on the CPU). Every such line is marked
``# deviation:``. No random seed is set inside: set one before calling.

:mod:`original_notebook.dense_mf`
    :func:`~original_notebook.dense_mf.read_ratings_matrix` (cells 12, 14) and
    :func:`~original_notebook.dense_mf.train_dense_mf` (cells 13, 16-18). Its bugs:

    1. ``ratings.fillna(-1)`` discards its result, so empty cells of the CSV
       stay NaN and are marked as observed;
    2. ``zero_grad`` is never called, so the gradients of all past epochs pile up;
    3. the loss is averaged over every cell, observed or not, which at
       6.3 % density shrinks it and its gradient about 16-fold;
    4. ``torch.rand`` starts every factor in [0, 1), so every estimate near
       ``n_factors / 4`` = 12.5 stars;
    5. the estimates are min-max rescaled into [1, 5], which moves every
       prediction, good or bad (clipping does not);
    6. it reports only the training loss, averaged over all cells.

:mod:`original_notebook.recommender_net`
    :func:`~original_notebook.recommender_net.make_batches` (cell 20),
    :class:`~original_notebook.recommender_net.RecommenderNet` (cell 21, also
    ``OriginalRecommenderNet``), :func:`~original_notebook.recommender_net.train`
    (cell 22) and :func:`~original_notebook.recommender_net.evaluate` (cell 23). Its bugs:

    1. ``hidden=10``, the class's own default, crashes on ``hidden[-1]``;
    2. the hidden layers live in a plain Python list, so ``parameters()``
       misses them: Adam never trains them, and ``eval()`` leaves their dropout on;
    3. ``minmax`` is ignored: the output is always ``sigmoid(...) * 4 + 1``;
    4. the batches are never shuffled;
    5. the scheduler steps on the last batch's training loss, and nothing
       is held out, so nothing tells training when to stop;
    6. ``train_loss += loss`` keeps every batch's autograd graph alive until
       the epoch ends (and is never used);
    7. the evaluation scores the training batches.

The fixed versions are :mod:`recsys_ref.mf` and :mod:`recsys_ref.nn` with
:mod:`recsys_ref.nn_training`; the book's chapters "Matrix factorization"
and "RecommenderNet" measure what each bug costs.
"""

from original_notebook import dense_mf, recommender_net
from original_notebook.recommender_net import OriginalRecommenderNet

__all__ = ["OriginalRecommenderNet", "dense_mf", "recommender_net"]
