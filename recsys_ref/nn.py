"""RecommenderNet: the original notebook's deep embedding network, done right.

The network embeds a user and a movie, concatenates the two embeddings, and
passes them through a stack of fully connected layers to one output, squashed
by a sigmoid and scaled to the rating range:

.. math:: \\hat r_{ui} = a + (b - a)\\, \\sigma\\big(f([e_u; e_i])\\big)

where :math:`e_u, e_i \\in \\mathbb{R}^k` are the user and movie embeddings,
:math:`[\\cdot;\\cdot]` concatenation, :math:`f` the hidden layers (Linear,
ReLU, Dropout each) and the final Linear, :math:`\\sigma` the logistic
sigmoid, and :math:`[a, b]` the rating range, [1, 5] by default.

Two bugs of the original notebook are fixed here (its code as written is
:mod:`original_notebook.recommender_net`):

1. ``hidden=10`` (its own default) crashed, because ``hidden[-1]`` needs a list;
   an int now means one hidden layer.
2. The hidden layers lived in a plain Python list, so ``parameters()`` did not
   see them: Adam never trained them and ``eval()`` never switched their
   dropout off. They are an :class:`torch.nn.Sequential` here.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from recsys_ref.base import Settings


def hidden_sizes(hidden: int | Sequence[int]) -> list[int]:
    """Normalise the ``hidden`` argument: an int is one layer, a sequence is one layer per entry.

    Raises:
        ValueError: When a size is not a positive integer or the list is empty.
    """
    sizes = [hidden] if isinstance(hidden, numbers.Integral) else list(hidden)
    if not sizes:
        raise ValueError("hidden must name at least one layer size.")
    for size in sizes:
        if not isinstance(size, numbers.Integral) or isinstance(size, bool) or size < 1:
            raise ValueError(f"hidden layer sizes must be positive integers, got {size!r}.")
    return [int(size) for size in sizes]


@dataclass(frozen=True)
class RecommenderNetSettings(Settings):
    """Keyword arguments of :class:`RecommenderNet` (besides the two table sizes).

    Attributes:
        n_factors: :math:`k`, the embedding size.
        hidden: Units of each hidden layer.
        embedding_dropout: Dropout rate after the embeddings.
        dropout_rate: Dropout rate after each hidden layer.
    """

    n_factors: int = 50
    hidden: tuple[int, ...] = (10,)
    embedding_dropout: float = 0.02
    dropout_rate: float | None = 0.2


#: The network's settings used by the book and ``benchmarks/quality.py``: one hidden
#: layer of 64 units, dropout 0.3 on the embeddings and after the hidden layer, trained
#: with the defaults of :func:`recsys_ref.nn_training.train_recommender_net`. They were
#: chosen by the validation loss of that training loop (10 % of the training part of
#: MovieLens 100K's random 80/20 split, seed 0), never by the test set; the book's
#: chapter "RecommenderNet" says what else was tried.
RECOMMENDER_NET_TUNED = RecommenderNetSettings(
    hidden=(64,), embedding_dropout=0.3, dropout_rate=0.3
)


class RecommenderNet(nn.Module):
    """A dense network with embedding layers (the original notebook's signature).

    Args:
        n_users: Number of unique users in the dataset.
        n_movies: Number of unique movies in the dataset.
        n_factors: :math:`k`, the number of columns in each embedding matrix.
        embedding_dropout: Dropout rate applied right after the embeddings.
        hidden: A single integer or a list of integers: the number of units
            in each hidden layer.
        dropout_rate: Dropout rate after each hidden layer (``None`` or 0: no dropout).

    Attributes:
        users: ``nn.Embedding(n_users, n_factors)``.
        movies: ``nn.Embedding(n_movies, n_factors)``.
        drop: Dropout after the embeddings.
        hidden: ``nn.Sequential`` of (Linear, ReLU[, Dropout]) per hidden layer.
        fc: The final ``nn.Linear(hidden[-1], 1)``.

    The number of parameters is
    :math:`(m + n) k + \\sum_j (h_{j-1} + 1) h_j + h_L + 1` with
    :math:`h_0 = 2k` and :math:`h_1..h_L` the hidden sizes (see
    :func:`count_parameters_formula`).
    """

    def __init__(
        self,
        n_users: int,
        n_movies: int,
        n_factors: int = 50,
        embedding_dropout: float = 0.02,
        hidden: int | Sequence[int] = 10,
        dropout_rate: float | None = 0.2,
    ) -> None:
        super().__init__()
        sizes = hidden_sizes(hidden)
        self.users = nn.Embedding(n_users, n_factors)
        self.movies = nn.Embedding(n_movies, n_factors)
        self.drop = nn.Dropout(embedding_dropout)
        layers: list[nn.Module] = []
        n_in = 2 * n_factors
        for n_out in sizes:
            layers += [nn.Linear(n_in, n_out), nn.ReLU()]
            if dropout_rate is not None and dropout_rate > 0.0:
                layers.append(nn.Dropout(dropout_rate))
            n_in = n_out
        self.hidden = nn.Sequential(*layers)  # registered, so trained and switched by eval()
        self.fc = nn.Linear(n_in, 1)
        self._init()

    def forward(
        self,
        users: torch.Tensor,
        movies: torch.Tensor,
        minmax: tuple[float, float] | Sequence[float] | None = None,
    ) -> torch.Tensor:
        """Predict ratings.

        Args:
            users: ``(batch,)`` long tensor of 0-based user indices.
            movies: ``(batch,)`` long tensor of 0-based movie indices.
            minmax: The rating range ``(a, b)``; ``None`` means ``(1, 5)``.

        Returns:
            ``(batch, 1)`` float tensor of ratings inside ``[a, b]``.
        """
        low, high = (1.0, 5.0) if minmax is None else (float(minmax[0]), float(minmax[1]))
        x = torch.cat([self.users(users), self.movies(movies)], dim=1)
        x = self.hidden(self.drop(x))
        return low + (high - low) * torch.sigmoid(self.fc(x))

    def _init(self) -> None:
        """Setup embeddings and hidden layers with reasonable initial values (the original scheme)."""

        def init(module: nn.Module) -> None:
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                module.bias.data.fill_(0.01)

        self.users.weight.data.uniform_(-0.05, 0.05)
        self.movies.weight.data.uniform_(-0.05, 0.05)
        self.hidden.apply(init)
        init(self.fc)


def count_parameters_formula(
    n_users: int, n_movies: int, n_factors: int = 50, hidden: int | Sequence[int] = 10
) -> int:
    """The number of trainable parameters of :class:`RecommenderNet`, from its shape alone."""
    sizes = hidden_sizes(hidden)
    total = (n_users + n_movies) * n_factors
    n_in = 2 * n_factors
    for n_out in sizes:
        total += (n_in + 1) * n_out
        n_in = n_out
    return total + n_in + 1
