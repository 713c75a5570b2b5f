"""The original notebook's dense matrix factorization, as written.

The code inside the functions is the notebook's (cells ``In [12]`` to
``In [18]``), line for line. Every change is marked with a comment that
starts with ``# deviation:``; none of them changes what is computed. The
bugs, which are kept on purpose, are listed in :mod:`original_notebook`; the
fixed model is :mod:`recsys_ref.mf`.

Run it with a random seed of your choice set first (the notebook sets none)::

    torch.manual_seed(0)
    estimated = train_dense_mf(ratings, exist)
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import torch
import torch.optim as optim

from recsys_ref.mf import check_dense_mf_fits


def read_ratings_matrix(path: str = "ratings_mat.csv") -> tuple[torch.Tensor, torch.Tensor]:
    """Cells ``In [12]`` and ``In [14]``: read the ratings matrix and build its mask.

    Bug kept: ``ratings.fillna(-1)`` returns a filled copy and throws it away,
    so a file that leaves missing ratings empty gives NaN entries, which the
    mask marks as observed.

    Returns:
        ``(ratings, exist)``: the ``(n_users, n_movies)`` matrix and its 0/1 mask, as tensors.
    """
    ratings = pd.read_csv(path)  # deviation: the notebook reads 'ratings_mat.csv'; the path is an argument
    del ratings['Unnamed: 0']
    ratings.fillna(-1)

    ratings = ratings.values
    exist = (ratings != -1).astype(int)

    ratings = torch.tensor(ratings)
    exist = torch.tensor(exist)
    return ratings, exist  # deviation: the notebook keeps them as global variables


def train_dense_mf(
    ratings: torch.Tensor,
    exist: torch.Tensor,
    n_factors: int = 50,
    epochs: int = 250,
    logging_rate: int = 10,
    on_epoch: Callable[[int, torch.Tensor, torch.Tensor], None] | None = None,
):
    """Cells ``In [13]``, ``In [16]``, ``In [17]`` and ``In [18]``: train, then rescale to [1, 5].

    Bugs kept: no ``zero_grad`` (gradients accumulate over the epochs); the
    loss is averaged over every cell of the matrix, not over the observed
    ones; ``torch.rand`` starts every estimate near ``n_factors / 4``; SGD
    with that loss barely moves; the estimates are min-max rescaled.

    Args:
        ratings: The ``(n_users, n_movies)`` ratings matrix, -1 where unrated.
        exist: Its 0/1 mask.
        n_factors, epochs, logging_rate: The notebook's settings (cell ``In [13]``).
        on_epoch: Called as ``on_epoch(epoch, loss, estimated)`` after each
            epoch's step, for measurements (the notebook has no such hook).

    Returns:
        The estimated ``(n_users, n_movies)`` NumPy array after the
        notebook's min-max rescaling into [1, 5].

    Raises:
        MemoryError: The dense matrices would not fit in memory.
    """
    n_users, n_movies = ratings.shape
    check_dense_mf_fits(n_users, n_movies)  # deviation: refuse, with the size, a matrix that cannot fit

    user_factors = torch.rand(n_factors, n_users, requires_grad=True)
    movies_factors = torch.rand(n_factors, n_movies, requires_grad=True)

    optimizer = optim.SGD(params=(user_factors, movies_factors), lr=0.01)

    def calc_loss(true_r, est_r, exist):
        true_exist = true_r*exist
        est_exist = est_r*exist
        diff = true_exist - est_exist
        res = torch.mean(torch.square(diff))
        return res

    for epoch in range(epochs):
        user_factors_tran = torch.transpose(user_factors, 0, 1)
        estimated = torch.matmul(user_factors_tran, movies_factors)
        loss = calc_loss(ratings, estimated, exist)
        loss.backward()
        optimizer.step()
        if on_epoch is not None:  # deviation: a hook for measurements
            on_epoch(epoch, loss, estimated)
        if epoch % logging_rate == 0:
            print("Loss at epoch {} = {}".format(epoch, loss.item()))
    print("Last Loss = {}".format(loss.item()))

    estimated = torch.transpose(user_factors, 0, 1).mm(movies_factors)
    estimated = estimated.cpu().detach().numpy()
    max_r, min_r = estimated.max(), estimated.min()
    estimated = 1 + 4 * (estimated - min_r) / (max_r - min_r)
    return estimated  # deviation: the notebook writes it to answer_ratings.csv (as a DataFrame)
