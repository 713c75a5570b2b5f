"""The original notebook's RecommenderNet and its training, as written.

The code inside the functions and the class is the notebook's (cells
``In [19]`` to ``In [23]``), line for line. Every change is marked with a
comment that starts with ``# deviation:``; none of them changes what is
computed. The bugs, which are kept on purpose, are listed in
:mod:`original_notebook`; the fixed network is :mod:`recsys_ref.nn` and its
training :mod:`recsys_ref.nn_training`.

Run it with a random seed of your choice set first (the notebook sets none)::

    torch.manual_seed(0)
    batches = make_batches(train.rename(columns=ORIGINAL_COLUMN_NAMES))
    net = train(batches, n_users, n_movies, epochs=5)
    average_loss, accuracy = evaluate(net, batches)
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import torch
import torch.nn as nn
import torch.optim as optim

from recsys_ref.base import RATING_COLUMNS
from recsys_ref.data import ORIGINAL_RATING_COLUMNS

#: ``frame.rename(columns=ORIGINAL_COLUMN_NAMES)`` turns a ratings frame of
#: :mod:`recsys_ref` (``user_id``, ``item_id``, ``rating``) into the columns of
#: the notebook's ``ratings.csv`` (``UserID``, ``MovieID``, ``Rating``).
ORIGINAL_COLUMN_NAMES = dict(zip(RATING_COLUMNS, ORIGINAL_RATING_COLUMNS))


def make_batches(ratings: pd.DataFrame, batch_sz: int = 128) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Cells ``In [19]`` and ``In [20]``: cut the ratings, in file order, into batches of 128.

    Bug kept: the batches are never shuffled, so every epoch sees them in the
    same order.

    Args:
        ratings: The notebook's ``pd.read_csv('ratings.csv')``: columns
            ``UserID``, ``MovieID``, ``Rating``, 1-based ids.
        batch_sz: Ratings per batch.

    Returns:
        A list of ``(users, movies, rates)`` tensors (0-based ids, long; ratings, float).
    """
    # deviation: the notebook reads ratings = pd.read_csv('ratings.csv'); the frame is an argument
    users = ratings['UserID'].values - 1
    movies = ratings['MovieID'].values - 1
    rates = ratings['Rating'].values
    n_samples = len(rates)
    batches = []
    for i in range(0, n_samples, batch_sz):
        limit =  min(i + batch_sz, n_samples)
        users_batch, movies_batch, rates_batch = users[i: limit], \
                                                 movies[i: limit],\
                                                 rates[i: limit]
        # deviation: the notebook moves each tensor .to(device), the GPU when there is one
        batches.append((torch.tensor(users_batch, dtype=torch.long),
                        torch.tensor(movies_batch, dtype=torch.long),
                        torch.tensor(rates_batch, dtype=torch.float)))
    return batches  # deviation: the notebook keeps it as a global variable


class RecommenderNet(nn.Module):
    """
    Creates a dense network with embedding layers.
    Args:
        n_users:
            Number of unique users in the dataset.
        n_movies:
            Number of unique movies in the dataset.
        n_factors:
            Number of columns in the embeddings matrix.
        embedding_dropout:
            Dropout rate to apply right after embeddings layer.
        hidden:
            A single integer or a list of integers defining the number of
            units in hidden layer(s).
        dropout_rate:
            dropout rate after each hidden layer.
    """

    def __init__(self, n_users, n_movies,
                 n_factors=50, embedding_dropout=0.02,
                 hidden=10, dropout_rate=0.2):

        super().__init__()

        n_last = hidden[-1]

        def gen_layers(n_in):
            """
            A generator that yields a sequence of hidden layers and
            their activations/dropouts.

            Note that the function captures `hidden` and `dropouts`
            values from the outer scope.
            """
            hidden_layers = []
            for n_out in hidden:
                hidden_layers.append(nn.Linear(n_in, n_out))
                hidden_layers.append(nn.ReLU())
                if dropout_rate is not None and dropout_rate > 0.:
                     hidden_layers.append(nn.Dropout(dropout_rate))
                n_in = n_out
            return hidden_layers

        self.users = nn.Embedding(n_users, n_factors)
        self.movies = nn.Embedding(n_movies, n_factors)
        self.drop = nn.Dropout(embedding_dropout)
        self.hidden = gen_layers(n_factors * 2)

        self.fc = nn.Linear(n_last, 1)
        self._init()


    def forward(self, users, movies, minmax=None):
        users = self.users(users)
        movies = self.movies(movies)
        x = torch.cat([users, movies], dim=1)
        x = self.drop(x)
        for hidden in self.hidden:
            x = hidden(x)
        x = torch.sigmoid(self.fc(x))
        return x * 4 + 1


    def _init(self):
        """
        Setup embeddings and hidden layers with reasonable initial values.
        """

        def init(m):
            if type(m) == nn.Linear:
                torch.nn.init.xavier_uniform_(m.weight)
                m.bias.data.fill_(0.01)

        self.users.weight.data.uniform_(-0.05, 0.05)
        self.movies.weight.data.uniform_(-0.05, 0.05)
        for layer in self.hidden:
            init(layer)
        init(self.fc)


#: The same class under a name that says where it comes from.
OriginalRecommenderNet = RecommenderNet


def train(
    batches: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
    n_users: int,
    n_movies: int,
    epochs: int = 100,
    *,
    net: nn.Module | None = None,
    on_epoch: Callable[[int, nn.Module], None] | None = None,
) -> nn.Module:
    """Cells ``In [19]`` and ``In [22]``: build the network and train it.

    Bugs kept: the scheduler steps on the last batch's *training* loss (and
    gets a tensor that requires gradients, so torch warns); ``train_loss``
    sums loss tensors and so keeps every batch's graph alive until the epoch
    ends; nothing is held out, so nothing says when to stop.

    Args:
        batches: From :func:`make_batches`.
        n_users, n_movies: Embedding table sizes.
        epochs: The notebook trains for 100 (cell ``In [19]``).
        net: A network to train instead of the notebook's
            ``RecommenderNet(n_users, n_movies, hidden=[128, 256, 128])``
            (the book trains the fixed class with this loop).
        on_epoch: Called as ``on_epoch(epoch, net)`` after each epoch, for measurements.

    Returns:
        The trained network (left in training mode, as the notebook leaves it).
    """
    if net is None:  # deviation: the network may be passed in
        net = RecommenderNet(n_users, n_movies, hidden=[128, 256, 128])
    criterion = nn.MSELoss(reduction='mean')
    optimizer = optim.Adam(net.parameters(), lr=1e-3)
    scheduler = optim.lr_scheduler.ReduceLROnPlateau(optimizer, 'min', factor=0.3, patience=2)

    for epoch in range(epochs):
        train_loss = 0
        for users_batch, movies_batch, rates_batch in batches:
            net.zero_grad()
            out = net(users_batch, movies_batch, [1, 5]).squeeze()
            loss = criterion(rates_batch, out)

            loss.backward()
            optimizer.step()
            train_loss += loss
        scheduler.step(loss)
        print("Loss at epoch {} = {}".format(epoch, loss.item()))
        if on_epoch is not None:  # deviation: a hook for measurements
            on_epoch(epoch, net)
    print("Last Loss = {}".format(loss.item()))
    return net  # deviation: the notebook keeps it as a global variable


def evaluate(net: nn.Module, batches: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]) -> tuple[float, float]:
    """Cell ``In [23]``: the mean batch loss and the share of ratings within half a star.

    Bugs kept: it scores the *training* batches, so it measures memory as
    much as prediction; the mean of batch means weighs a short last batch
    like a full one; the dropout layers in the plain list stay on in ``eval()``.

    Returns:
        ``(average loss, accuracy)``, as the notebook prints them.
    """
    criterion = nn.MSELoss(reduction='mean')  # deviation: defined in the training cell in the notebook
    # evaluate the model
    net.eval()
    with torch.no_grad():
        total_correct = 0
        n_correct = 0
        total_loss = 0
        n_loss = 0
        for users_batch, movies_batch, rates_batch in batches:
            out = net(users_batch, movies_batch, [1, 5]).squeeze()
            loss = criterion(rates_batch, out)
            total_loss += loss
            n_loss += 1
            total_correct += torch.sum(torch.abs(rates_batch - out) < 0.5)
            n_correct += len(rates_batch)
        print("Average loss = {}".format(total_loss / n_loss))
        print("Accuracy = {}".format(total_correct / n_correct))
    return float(total_loss / n_loss), float(total_correct / n_correct)  # deviation: the notebook only prints them
