"""Unit tests of recsys_ref.grading: each check passes the reference and other correct
solutions, and fails each planted mistake with the expected, actionable message."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn, optim

from recsys_ref import mf
from recsys_ref.grading import (
    check_calc_loss,
    check_estimate,
    check_factors,
    check_optimizer,
    check_recommender_net_forward,
    check_recommender_net_init,
    check_to_rating_range,
    check_training_reduced_loss,
    find_modules,
)
from recsys_ref.nn import RecommenderNet

K, M, N = 50, 943, 1682


class AlwaysEqual:
    """Claims to equal everything and to be true: must never pass a check."""

    shape = (K, M)
    requires_grad = True
    is_leaf = True

    def __eq__(self, other):
        return True

    def __bool__(self):
        return True

    def __float__(self):
        return 0.0

    def __getattr__(self, name):
        return self


class LyingTensor(torch.Tensor):
    """A real tensor subclass whose comparisons always say yes."""

    def __eq__(self, other):
        return True

    def __bool__(self):
        return True


def fails(check, *args, match: str, task: str | None = None):
    """Run a check, require an AssertionError whose message contains ``match`` (and the task)."""
    with pytest.raises(AssertionError) as info:
        check(*args)
    message = str(info.value)
    assert match in message, f"expected {match!r} in: {message}"
    if task is not None:
        assert message.startswith(task), message
    assert "\n" not in message, "one message, one line"
    return message


# =========================================================================== Task 1: factors


def leaf(*shape):
    return (0.1 * torch.randn(*shape)).requires_grad_()


@pytest.mark.parametrize(
    "make",
    [
        lambda: mf.init_factors(K, M, N),
        lambda: (torch.rand(K, M, requires_grad=True), torch.rand(K, N, requires_grad=True)),
        lambda: (nn.Parameter(torch.randn(K, M)), nn.Parameter(torch.randn(K, N))),
        lambda: (torch.randn(K, M, dtype=torch.float64, requires_grad=True), leaf(K, N)),
    ],
    ids=["reference", "seed-rand", "parameters", "float64"],
)
def test_check_factors_accepts_correct_factors(make):
    user, movies = make()
    check_factors(user, movies, K, M, N)


@pytest.mark.parametrize(
    "user, movies, match",
    [
        (leaf(M, K), leaf(N, K), "The factors are transposed"),
        (0.1 * torch.randn(K, M), leaf(K, N), "user_factors.requires_grad is False"),
        (0.1 * torch.randn(K, M, requires_grad=True), leaf(K, N), "to be a leaf tensor"),
        (torch.zeros(K, M, requires_grad=True), leaf(K, N), "every entry of user_factors equals 0"),
        (leaf(K, N), leaf(K, M), "did you swap user_factors and movies_factors"),
        (leaf(10, M), leaf(K, N), "Use n_factors = 50 rows"),
        (np.random.rand(K, M), leaf(K, N), "got a numpy.ndarray"),
        (None, leaf(K, N), "user_factors is not defined"),
        (torch.randint(0, 5, (K, M)), leaf(K, N), "to hold floats"),
        (AlwaysEqual(), AlwaysEqual(), "AlwaysEqual"),
        (torch.full((K, M), float("nan"), requires_grad=True), leaf(K, N), "nan or inf"),
        (leaf(K, M), 0.1 * torch.randn(K, N), "movies_factors.requires_grad is False"),
    ],
    ids=["transposed", "no-requires-grad", "non-leaf", "constant", "swapped", "n-factors",
         "numpy", "undefined", "integer", "always-equal", "nan", "movies-no-grad"],
)
def test_check_factors_diagnoses_mistakes(user, movies, match):
    fails(check_factors, user, movies, K, M, N, match=match, task="Task 1 (user_factors, movies_factors)")


def test_check_factors_rejects_one_tensor_twice():
    both = leaf(K, M)
    fails(check_factors, both, both, K, M, M, match="the same tensor twice")


# =========================================================================== Task 2: optimizer


@pytest.mark.parametrize(
    "make",
    [
        lambda u, v: optim.Adam([u, v], lr=0.01),
        lambda u, v: optim.SGD(params=(u, v), lr=0.01),
        lambda u, v: optim.RMSprop([{"params": [u]}, {"params": [v], "lr": 0.001}], lr=0.01),
        lambda u, v: optim.Adam([v, u], lr=torch.tensor(0.01)),
    ],
    ids=["adam", "sgd-seed", "two-groups", "tensor-lr"],
)
def test_check_optimizer_accepts_any_optimizer_over_both(make):
    user, movies = leaf(4, 5), leaf(4, 6)
    check_optimizer(make(user, movies), user, movies)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda u, v: optim.Adam([v], lr=0.01), "user_factors is missing"),
        (lambda u, v: optim.Adam([u], lr=0.01), "movies_factors is missing"),
        (lambda u, v: optim.Adam, "the class Adam itself"),
        (lambda u, v: optim.Adam([u.detach().clone().requires_grad_(), v], lr=0.01), "holds a copy of user_factors"),
        (lambda u, v: optim.Adam([u, v, leaf(3)], lr=0.01), "also holds 1 other tensor"),
        (lambda u, v: optim.SGD([u, v], lr=0.0), "expected a positive learning rate"),
        (lambda u, v: optim.SGD([u, v], lr=0.01, maximize=True), "maximize=True"),
        (lambda u, v: None, "optimizer is not defined"),
        (lambda u, v: [u, v], "got a list"),
        (lambda u, v: AlwaysEqual(), "AlwaysEqual"),
    ],
    ids=["only-movies", "only-users", "class", "copy", "extra", "lr-zero", "maximize", "undefined",
         "list", "always-equal"],
)
def test_check_optimizer_diagnoses_mistakes(make, match):
    user, movies = leaf(4, 5), leaf(4, 6)
    fails(check_optimizer, make(user, movies), user, movies, match=match, task="Task 2 (optimizer)")


# =========================================================================== Task 3: calc_loss


def loss_indexing(true_r, est_r, exist):
    observed = exist.bool()
    return torch.mean(torch.square(true_r[observed] - est_r[observed]))


def loss_where(true_r, est_r, exist):
    diff = torch.where(exist == 1, true_r - est_r, torch.zeros_like(est_r))
    return (diff**2).sum() / exist.sum()


def loss_mse(true_r, est_r, exist):
    mask = exist > 0
    return F.mse_loss(est_r[mask], true_r[mask])


@pytest.mark.parametrize("calc_loss", [mf.masked_mse, loss_indexing, loss_where, loss_mse])
def test_check_calc_loss_accepts_correct_losses(calc_loss):
    check_calc_loss(calc_loss)


def seed_loss(true_r, est_r, exist):  # the seed's version: mean over all cells
    return torch.mean(torch.square(true_r * exist - est_r * exist))


@pytest.mark.parametrize(
    "calc_loss, match",
    [
        (seed_loss, "calc_loss averages over all cells: divide by the number of observed ratings (exist.sum())"),
        (lambda t, e, x: ((t - e) ** 2).mean(), "calc_loss ignores the mask"),
        (lambda t, e, x: ((t - e) ** 2).sum() / x.sum(), "calc_loss ignores the mask"),
        (lambda t, e, x: (x * (t - e) ** 2).sum(), "sum instead of the mean"),
        (lambda t, e, x: torch.sqrt((x * (t - e) ** 2).sum() / x.sum()), "root of the mean squared error"),
        (lambda t, e, x: (x * (t - e).abs()).sum() / x.sum(), "averages absolute errors"),
        (lambda t, e, x: ((x * (t - e) ** 2).sum() / x.sum()).item(), "got a float"),
        (lambda t, e, x: ((x * (t - e) ** 2).sum() / x.sum()).detach(), "expected a differentiable loss"),
        (lambda t, e, x: (x * (t - e) ** 2).sum(dim=1) / x.sum(), "expected a scalar"),
        (lambda t, e, x: AlwaysEqual(), "AlwaysEqual"),
        (lambda t, e, x: torch.tensor(0.0).as_subclass(LyingTensor), "expected 2.316"),
        (lambda t, e, x: (_ for _ in ()).throw(NotImplementedError()), "not implemented yet"),
        (lambda t, e, x: t[x] - e[x], "calc_loss raised IndexError"),
        (None, "expected calc_loss to be a function"),
    ],
    ids=["all-cells", "no-mask-mean", "no-mask-count", "sum", "rmse", "abs", "item", "detach",
         "vector", "always-equal", "lying-tensor", "not-implemented", "float-index", "none"],
)
def test_check_calc_loss_diagnoses_mistakes(calc_loss, match):
    fails(check_calc_loss, calc_loss, match=match, task="Task 3 (calc_loss)")


def test_check_calc_loss_message_names_the_example():
    message = fails(check_calc_loss, seed_loss, match="on a 3x4 example with 5 observed ratings, got")
    assert message.startswith("Task 3 (calc_loss): expected 2.316 on a 3x4 example with 5 observed ratings, got 0.9652.")


# =========================================================================== Task 4: estimate


@pytest.mark.parametrize(
    "estimate",
    [
        mf.estimate,
        lambda u, v: torch.mm(u.t(), v),
        lambda u, v: torch.einsum("ku,km->um", u, v),
        lambda u, v: torch.transpose(u, 0, 1).matmul(v),
        lambda u, v: (u.T.unsqueeze(2) * v.unsqueeze(0)).sum(dim=1),
    ],
    ids=["reference", "mm", "einsum", "seed-transpose", "broadcast-sum"],
)
def test_check_estimate_accepts_correct_estimates(estimate):
    check_estimate(estimate)


@pytest.mark.parametrize(
    "estimate, match",
    [
        (lambda u, v: u * v, "estimate multiplies elementwise (*)"),
        (lambda u, v: v.T @ u, "The result is transposed"),
        (lambda u, v: u @ v.T, "estimate raised RuntimeError"),
        (lambda u, v: (u.T @ v).detach(), "expected a differentiable result"),
        (lambda u, v: (u.T @ v).detach().numpy(), "got a numpy.ndarray"),
        (lambda u, v: mf.minmax_to_range(u.T @ v), "estimate rescales its result"),
        (lambda u, v: (u.T @ v).sum(), "expected shape (n_users, n_movies)"),
        (lambda u, v: AlwaysEqual(), "AlwaysEqual"),
        (lambda u, v: (u.T @ v + 1).as_subclass(LyingTensor), "got different values"),
        (lambda u, v: (_ for _ in ()).throw(NotImplementedError()), "not implemented yet"),
    ],
    ids=["elementwise", "transposed", "wrong-product", "detached", "numpy", "rescaled", "scalar",
         "always-equal", "lying-tensor", "not-implemented"],
)
def test_check_estimate_diagnoses_mistakes(estimate, match):
    fails(check_estimate, estimate, match=match, task="Task 4 (estimate)")


# =========================================================================== Task 5: to_rating_range


def range_alternative(estimated, low=1.0, high=5.0):
    span = estimated.max() - estimated.min()
    if span == 0:
        return torch.ones_like(estimated) * (low + high) / 2
    return (estimated - estimated.min()) / span * (high - low) + low


def range_where(estimated, low=1.0, high=5.0):
    lo, hi = estimated.min(), estimated.max()
    scaled = (estimated - lo) / torch.where(hi > lo, hi - lo, torch.ones_like(hi))
    return torch.where(hi > lo, low + (high - low) * scaled, torch.full_like(estimated, (low + high) / 2))


@pytest.mark.parametrize("to_rating_range", [mf.minmax_to_range, range_alternative, range_where])
def test_check_to_rating_range_accepts_correct_rescaling(to_rating_range):
    check_to_rating_range(to_rating_range)


def no_special_case(estimated, low=1.0, high=5.0):
    return low + (high - low) * (estimated - estimated.min()) / (estimated.max() - estimated.min())


def constant_to_low(estimated, low=1.0, high=5.0):
    if estimated.max() == estimated.min():
        return torch.full_like(estimated, low)
    return no_special_case(estimated, low, high)


@pytest.mark.parametrize(
    "to_rating_range, match",
    [
        (lambda x, low=1.0, high=5.0: x.clamp(low, high), "clips the values"),
        (no_special_case, "the division gives nan"),
        (constant_to_low, "must map to the midpoint (low + high) / 2 = 3"),
        (lambda x, low=1.0, high=5.0: mf.minmax_to_range(x), "ignores the low and high arguments"),
        (lambda x, low=1.0, high=5.0: low + high - mf.minmax_to_range(x, low, high), "The minimum must map to low"),
        (lambda x, low=1.0, high=5.0: low + high * (x - x.min()) / (x.max() - x.min()), "Multiply by the width (high - low)"),
        (lambda x, low=1.0, high=5.0: (x - x.min()) / (x.max() - x.min()), "scaling into [0, 1]"),
        (lambda x, low=1.0, high=5.0: mf.minmax_to_range(x, low, high).numpy(), "got a numpy.ndarray"),
        (lambda x, low=1.0, high=5.0: mf.minmax_to_range(x, low, high).flatten(), "expected the input's shape"),
        (lambda x, low=1.0, high=5.0: AlwaysEqual(), "AlwaysEqual"),
        (lambda x, low=1.0, high=5.0: x.as_subclass(LyingTensor), "expected values from 1 to 5"),
        (lambda x: mf.minmax_to_range(x), "to_rating_range raised TypeError"),
    ],
    ids=["clip", "nan-constant", "constant-low", "ignores-range", "reversed", "times-high", "unit",
         "numpy", "flattened", "always-equal", "lying-tensor", "no-range-arguments"],
)
def test_check_to_rating_range_diagnoses_mistakes(to_rating_range, match):
    fails(check_to_rating_range, to_rating_range, match=match, task="Task 5 (to_rating_range)")


# =========================================================================== training


@pytest.mark.parametrize("losses", [[3.0, 2.0, 1.0], np.array([5.0, 6.0, 4.0]), torch.tensor([2.0, 1.5]).tolist()])
def test_check_training_reduced_loss_accepts_decrease(losses):
    check_training_reduced_loss(losses)


@pytest.mark.parametrize(
    "losses, epochs, match",
    [
        ([], 100, "no epoch completed"),
        ([3.0, 2.0], 100, "stopped after 2"),
        ([3.0, float("nan")], None, "became nan at epoch 1"),
        ([1.0, 1.0, 1.0], None, "went from 1 to 1"),
        ([1.0, 2.0], None, "expected the loss to decrease"),
        (None, None, "expected a list of loss values"),
    ],
    ids=["empty", "partial", "nan", "flat", "up", "none"],
)
def test_check_training_reduced_loss_diagnoses_failures(losses, epochs, match):
    fails(check_training_reduced_loss, losses, epochs, match=match, task="Training")


# =========================================================================== RecommenderNet


def sizes_of(hidden):
    return [hidden] if isinstance(hidden, int) else list(hidden)


class ModuleListNet(nn.Module):
    """Correct: other names, ModuleLists, F.relu, minmax as a tuple."""

    def __init__(self, n_users, n_movies, n_factors=50, embedding_dropout=0.02, hidden=10, dropout_rate=0.2):
        super().__init__()
        self.u = nn.Embedding(n_users, n_factors)
        self.m = nn.Embedding(n_movies, n_factors)
        self.emb_drop = nn.Dropout(embedding_dropout)
        self.layers, self.drops = nn.ModuleList(), nn.ModuleList()
        n_in = 2 * n_factors
        for n_out in sizes_of(hidden):
            self.layers.append(nn.Linear(n_in, n_out))
            self.drops.append(nn.Dropout(dropout_rate))
            n_in = n_out
        self.out = nn.Linear(n_in, 1)

    def forward(self, users, movies, minmax=None):
        lo, hi = minmax if minmax is not None else (1.0, 5.0)
        x = self.emb_drop(torch.cat((self.u(users), self.m(movies)), dim=-1))
        for layer, drop in zip(self.layers, self.drops):
            x = drop(F.relu(layer(x)))
        return lo + (hi - lo) * torch.sigmoid(self.out(x))


class OneSequentialNet(nn.Module):
    """Correct: the embeddings first defined as movies then users, one Sequential with the head and nn.Sigmoid."""

    def __init__(self, n_users, n_movies, n_factors=50, embedding_dropout=0.02, hidden=10, dropout_rate=0.2):
        super().__init__()
        self.movie_embedding = nn.Embedding(n_movies, n_factors)
        self.user_embedding = nn.Embedding(n_users, n_factors)
        layers = [nn.Dropout(embedding_dropout)]
        n_in = 2 * n_factors
        for n_out in sizes_of(hidden):
            layers += [nn.Linear(n_in, n_out), nn.ReLU()]
            if dropout_rate:
                layers.append(nn.Dropout(dropout_rate))
            n_in = n_out
        layers += [nn.Linear(n_in, 1), nn.Sigmoid()]
        self.net = nn.Sequential(*layers)

    def forward(self, users, movies, minmax=None):
        x = torch.cat([self.user_embedding(users), self.movie_embedding(movies)], 1)
        return 4 * self.net(x) + 1


class AddModuleNet(nn.Module):
    """Correct: hidden layers registered one by one with add_module, dropout by F.dropout(training=self.training)."""

    def __init__(self, n_users, n_movies, n_factors=50, embedding_dropout=0.02, hidden=10, dropout_rate=0.2):
        super().__init__()
        self.users = nn.Embedding(n_users, n_factors)
        self.movies = nn.Embedding(n_movies, n_factors)
        self.drop = nn.Dropout(embedding_dropout)
        self.n_hidden = len(sizes_of(hidden))
        n_in = 2 * n_factors
        for i, n_out in enumerate(sizes_of(hidden)):
            self.add_module(f"linear{i}", nn.Linear(n_in, n_out))
            self.add_module(f"dropout{i}", nn.Dropout(dropout_rate))
            n_in = n_out
        self.fc = nn.Linear(n_in, 1)

    def forward(self, users, movies, minmax=None):
        x = self.drop(torch.cat([self.users(users), self.movies(movies)], dim=1))
        for i in range(self.n_hidden):
            x = getattr(self, f"dropout{i}")(torch.relu(getattr(self, f"linear{i}")(x)))
        return torch.sigmoid(self.fc(x)) * 4 + 1


@pytest.mark.parametrize("cls", [RecommenderNet, ModuleListNet, OneSequentialNet, AddModuleNet])
def test_network_checks_accept_correct_networks(cls):
    check_recommender_net_init(cls)
    check_recommender_net_forward(cls)


# --- mistakes in __init__ (Task 1); forward stays gradable unless the layers cannot be matched


class PlainListNet(ModuleListNet):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        layers, drops = list(self.layers), list(self.drops)
        del self.layers, self.drops
        self.layers, self.drops = layers, drops  # plain lists: not registered


class SeedHiddenIntNet(RecommenderNet):
    def __init__(self, n_users, n_movies, n_factors=50, embedding_dropout=0.02, hidden=10, dropout_rate=0.2):
        hidden[-1]  # the seed's `n_last = hidden[-1]` fails for an int
        super().__init__(n_users, n_movies, n_factors, embedding_dropout, hidden, dropout_rate)


class NoHiddenDropoutNet(ModuleListNet):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.drops = nn.ModuleList(nn.Identity() for _ in self.drops)


class NoEmbeddingDropoutNet(ModuleListNet):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.emb_drop = nn.Identity()


class FirstLayerTooNarrowNet(nn.Module):
    def __init__(self, n_users, n_movies, n_factors=50, embedding_dropout=0.02, hidden=10, dropout_rate=0.2):
        super().__init__()
        self.users, self.movies = nn.Embedding(n_users, n_factors), nn.Embedding(n_movies, n_factors)
        self.drop = nn.Dropout(embedding_dropout)
        sizes = sizes_of(hidden)
        layers, n_in = [], n_factors
        for n_out in sizes:
            layers += [nn.Linear(n_in, n_out), nn.ReLU(), nn.Dropout(dropout_rate)]
            n_in = n_out
        self.hidden, self.fc = nn.Sequential(*layers), nn.Linear(n_in, 1)


class NoFinalLayerNet(ModuleListNet):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.out


class NoBiasNet(ModuleListNet):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.layers = nn.ModuleList(nn.Linear(l.in_features, l.out_features, bias=False) for l in self.layers)


class SharedEmbeddingNet(ModuleListNet):
    def __init__(self, n_users, n_movies, n_factors=50, **kwargs):
        super().__init__(n_users, n_movies, n_factors, **kwargs)
        del self.u, self.m
        self.table = nn.Embedding(n_users + n_movies, n_factors)


class WrongEmbeddingWidthNet(ModuleListNet):
    def __init__(self, n_users, n_movies, n_factors=50, **kwargs):
        super().__init__(n_users, n_movies, n_factors, **kwargs)
        self.u = nn.Embedding(n_users, n_factors + 1)


@pytest.mark.parametrize(
    "cls, match",
    [
        (PlainListNet, "plain Python container `self.layers`"),
        (SeedHiddenIntNet, "hidden=10 (an int) means one hidden layer of 10 units"),
        (NoHiddenDropoutNet, "Each hidden layer is Linear, ReLU, then nn.Dropout(dropout_rate)"),
        (NoEmbeddingDropoutNet, "Add the embedding dropout"),
        (FirstLayerTooNarrowNet, "2 * n_factors inputs, not n_factors"),
        (NoFinalLayerNet, "The final layer maps the last hidden layer to one output"),
        (NoBiasNet, "Keep biases on"),
        (SharedEmbeddingNet, "expected two embeddings"),
        (WrongEmbeddingWidthNet, "expected embeddings of n_factors=4 columns"),
    ],
    ids=["plain-list", "hidden-int", "no-hidden-dropout", "no-embedding-dropout", "narrow-first-layer",
         "no-final-layer", "no-bias", "shared-embedding", "embedding-width"],
)
def test_check_init_diagnoses_mistakes(cls, match):
    fails(check_recommender_net_init, cls, match=match, task="Task 1 (RecommenderNet.__init__)")


@pytest.mark.parametrize(
    "cls", [PlainListNet, SeedHiddenIntNet, NoHiddenDropoutNet, NoEmbeddingDropoutNet],
    ids=["plain-list", "hidden-int", "no-hidden-dropout", "no-embedding-dropout"],
)
def test_init_mistakes_do_not_cost_forward(cls):
    """Task 2 is graded on its own: a registration or dropout mistake in __init__ leaves forward gradable."""
    check_recommender_net_forward(cls)


@pytest.mark.parametrize(
    "cls, match",
    [
        (FirstLayerTooNarrowNet, "Fix Task 1 (__init__) first"),
        (NoBiasNet, "has no bias"),
    ],
)
def test_forward_check_names_init_when_layers_cannot_be_matched(cls, match):
    fails(check_recommender_net_forward, cls, match=match, task="Task 2 (RecommenderNet.forward)")


# --- mistakes in forward (Task 2); __init__ is unaffected


def forward_with(body):
    class Net(RecommenderNet):
        def forward(self, users, movies, minmax=None):
            return body(self, users, movies)

    return Net


def hidden_logits(net, users, movies, order="um", dropout=None, relu=True):
    parts = [net.users(users), net.movies(movies)]
    x = torch.cat(parts if order == "um" else parts[::-1], dim=1)
    x = net.drop(x) if dropout is None else dropout(x)
    for layer in net.hidden:
        if isinstance(layer, nn.ReLU) and not relu:
            continue
        x = layer(x)
    return net.fc(x)


@pytest.mark.parametrize(
    "body, match",
    [
        (lambda n, u, m: 1 + 4 * torch.sigmoid(hidden_logits(n, u, m, order="mu")),
         "concatenates the movie embedding before the user embedding"),
        (lambda n, u, m: 1 + 4 * hidden_logits(n, u, m), "The sigmoid is missing"),
        (lambda n, u, m: hidden_logits(n, u, m), "The sigmoid is missing"),
        (lambda n, u, m: 5 * torch.sigmoid(hidden_logits(n, u, m)), "Wrong output scaling: 5 * sigmoid(x)"),
        (lambda n, u, m: 4 * torch.sigmoid(hidden_logits(n, u, m)), "Wrong output scaling: 4 * sigmoid(x)"),
        (lambda n, u, m: torch.sigmoid(hidden_logits(n, u, m)), "Wrong output scaling: sigmoid(x) alone"),
        (lambda n, u, m: (1 + 4 * torch.sigmoid(hidden_logits(n, u, m))).squeeze(), "do not squeeze"),
        (lambda n, u, m: 1 + 4 * torch.sigmoid(hidden_logits(n, u, m, dropout=lambda x: F.dropout(x, 0.5))),
         "dropout stays active after model.eval()"),
        (lambda n, u, m: 1 + 4 * torch.sigmoid(hidden_logits(n, u, m, dropout=lambda x: x)), "never calls Dropout(p=0.3)"),
        (lambda n, u, m: 1 + 4 * torch.sigmoid(hidden_logits(n, u, m, relu=False)), "The ReLU activations are missing"),
        (lambda n, u, m: 1 + 4 * torch.sigmoid(n.fc(torch.cat([n.users(u), n.movies(m)], 1))), "forward raised RuntimeError"),
        (lambda n, u, m: 1 + 4 * torch.sigmoid(hidden_logits(n, u, m).detach()), "carries gradients"),
        (lambda n, u, m: AlwaysEqual(), "AlwaysEqual"),
        (lambda n, u, m: torch.full((len(u), 1), 3.0).as_subclass(LyingTensor), "got values from 3 to 3"),
        (lambda n, u, m: (_ for _ in ()).throw(NotImplementedError()), "not implemented yet"),
    ],
    ids=["concat-swapped", "no-sigmoid-scaled", "no-sigmoid", "times-5", "times-4", "unscaled", "squeezed",
         "dropout-in-eval", "embedding-dropout-unused", "no-relu", "hidden-skipped", "detached",
         "always-equal", "lying-tensor", "not-implemented"],
)
def test_check_forward_diagnoses_mistakes(body, match):
    cls = forward_with(body)
    fails(check_recommender_net_forward, cls, match=match, task="Task 2 (RecommenderNet.forward)")
    check_recommender_net_init(cls)  # __init__ is the reference's: Task 1 keeps its points


def test_forward_minmax_none_and_range_must_agree():
    def body(net, users, movies, minmax=None):
        low, high = (0.0, 1.0) if minmax is not None else (1.0, 5.0)
        return low + (high - low) * torch.sigmoid(hidden_logits(net, users, movies))

    class Net(RecommenderNet):
        def forward(self, users, movies, minmax=None):
            return body(self, users, movies, minmax)

    fails(check_recommender_net_forward, Net, match="with minmax=[1, 5] as without it")


def test_network_checks_reject_non_classes():
    fails(check_recommender_net_init, RecommenderNet(3, 4), match="expected RecommenderNet to be a class")
    fails(check_recommender_net_forward, AlwaysEqual(), match="expected RecommenderNet to be a class")


def test_find_modules_sees_registered_and_plain_list_layers():
    net = PlainListNet(3, 4, n_factors=2, hidden=[5, 6])
    paths = [path for path, _ in find_modules(net)]
    assert "u" in paths and "out" in paths
    assert "layers[0]" in paths and "drops[1]" in paths


# =========================================================================== side effects


@pytest.mark.parametrize(
    "run",
    [
        lambda: check_calc_loss(mf.masked_mse),
        lambda: check_estimate(mf.estimate),
        lambda: check_to_rating_range(mf.minmax_to_range),
        lambda: check_recommender_net_init(RecommenderNet),
        lambda: check_recommender_net_forward(RecommenderNet),
    ],
    ids=["calc_loss", "estimate", "to_rating_range", "init", "forward"],
)
def test_checks_leave_the_global_random_state_alone(run):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    run()
    assert torch.equal(torch.rand(3), expected)
