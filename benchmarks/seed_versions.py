"""The seed notebook's two models exactly as written, bugs included.

They exist only to measure what the bugs cost, in ``quality.py``; the book
shows the same code inline where it teaches it. Never use them for anything
else: the reference implementation is :mod:`recsys_ref`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import torch
from torch import nn, optim


def seed_dense_mf(
    ratings: torch.Tensor, exist: torch.Tensor, *, n_factors: int = 50, epochs: int = 250, seed: int = 0
) -> np.ndarray:
    """The seed's dense MF: ``torch.rand`` init, SGD(lr=0.01), loss averaged over
    all cells, no ``zero_grad`` (gradients accumulate), min-max rescaling.

    Returns:
        The ``(n_users, n_movies)`` estimated matrix, rescaled into [1, 5] as the seed does.
    """
    torch.manual_seed(seed)
    n_users, n_movies = ratings.shape
    user_factors = torch.rand(n_factors, n_users, requires_grad=True)
    movies_factors = torch.rand(n_factors, n_movies, requires_grad=True)
    optimizer = optim.SGD(params=(user_factors, movies_factors), lr=0.01)

    def calc_loss(true_r, est_r, exist):
        true_exist = true_r * exist
        est_exist = est_r * exist
        diff = true_exist - est_exist
        return torch.mean(torch.square(diff))

    for _ in range(epochs):
        estimated = torch.matmul(torch.transpose(user_factors, 0, 1), movies_factors)
        loss = calc_loss(ratings, estimated, exist)
        loss.backward()  # no zero_grad: as in the seed
        optimizer.step()
    estimated = torch.transpose(user_factors, 0, 1).mm(movies_factors).detach().numpy()
    max_r, min_r = estimated.max(), estimated.min()
    return 1 + 4 * (estimated - min_r) / (max_r - min_r)


class SeedRecommenderNet(nn.Module):
    """The seed's RecommenderNet: hidden layers kept in a plain Python list.

    ``parameters()`` does not see them, so Adam never trains them and
    ``eval()`` leaves their dropout on. ``hidden`` must be a list (the seed's
    own default ``hidden=10`` crashes on ``hidden[-1]``).
    """

    def __init__(self, n_users, n_movies, n_factors=50, embedding_dropout=0.02, hidden=10, dropout_rate=0.2):
        super().__init__()
        n_last = hidden[-1]

        def gen_layers(n_in):
            hidden_layers = []
            for n_out in hidden:
                hidden_layers.append(nn.Linear(n_in, n_out))
                hidden_layers.append(nn.ReLU())
                if dropout_rate is not None and dropout_rate > 0.0:
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
        x = torch.cat([self.users(users), self.movies(movies)], dim=1)
        x = self.drop(x)
        for hidden in self.hidden:
            x = hidden(x)
        return torch.sigmoid(self.fc(x)) * 4 + 1

    def _init(self):
        def init(m):
            if type(m) == nn.Linear:
                torch.nn.init.xavier_uniform_(m.weight)
                m.bias.data.fill_(0.01)

        self.users.weight.data.uniform_(-0.05, 0.05)
        self.movies.weight.data.uniform_(-0.05, 0.05)
        for layer in self.hidden:
            init(layer)
        init(self.fc)


def seed_train_recommender_net(
    train: pd.DataFrame, n_users: int, n_movies: int, *, epochs: int = 5, seed: int = 0
) -> SeedRecommenderNet:
    """The seed's training: hidden=[128, 256, 128], batches of 128 in file order
    (never shuffled), Adam(lr=1e-3), ReduceLROnPlateau on the last batch's loss."""
    torch.manual_seed(seed)
    users = train["user_id"].to_numpy() - 1
    movies = train["item_id"].to_numpy() - 1
    rates = train["rating"].to_numpy()
    batches = []
    for i in range(0, len(rates), 128):
        limit = min(i + 128, len(rates))
        batches.append(
            (
                torch.tensor(users[i:limit], dtype=torch.long),
                torch.tensor(movies[i:limit], dtype=torch.long),
                torch.tensor(rates[i:limit], dtype=torch.float),
            )
        )
    net = SeedRecommenderNet(n_users, n_movies, hidden=[128, 256, 128])
    criterion = nn.MSELoss(reduction="mean")
    optimizer = optim.Adam(net.parameters(), lr=1e-3)
    scheduler = optim.lr_scheduler.ReduceLROnPlateau(optimizer, "min", factor=0.3, patience=2)
    for _ in range(epochs):
        for users_batch, movies_batch, rates_batch in batches:
            net.zero_grad()
            out = net(users_batch, movies_batch, [1, 5]).squeeze()
            loss = criterion(rates_batch, out)
            loss.backward()
            optimizer.step()
        with warnings.catch_warnings():  # the seed passes the loss tensor itself; torch warns
            warnings.simplefilter("ignore", UserWarning)
            scheduler.step(loss)
    net.eval()
    return net
