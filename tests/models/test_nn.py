"""RecommenderNet: registered layers, parameter count, modes, output range, input order.

The original notebook's model (layers in a plain Python list, from
:mod:`original_notebook`) sits next to the reference in the contrast tests,
so each test shows the bug it guards against.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from original_notebook import OriginalRecommenderNet
from recsys_ref.nn import (
    RECOMMENDER_NET_TUNED,
    RecommenderNet,
    count_parameters_formula,
    hidden_sizes,
)


def batch(
    n_users: int, n_movies: int, size: int = 32, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return (
        torch.randint(0, n_users, (size,), generator=generator),
        torch.randint(0, n_movies, (size,), generator=generator),
    )


def n_registered(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# --- hidden_sizes --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hidden", "sizes"),
    [
        (10, [10]),
        ([10], [10]),
        ([128, 256, 128], [128, 256, 128]),
        ((8, 4), [8, 4]),
        (range(3, 5), [3, 4]),
    ],
)
def test_hidden_sizes_normalises_an_int_or_a_sequence(hidden, sizes):
    assert hidden_sizes(hidden) == sizes


@pytest.mark.parametrize(
    ("hidden", "message"),
    [
        ([], "at least one layer"),
        ((), "at least one layer"),
        (0, "positive integers"),
        (-3, "positive integers"),
        ([10, 0], "positive integers"),
        ([10, 2.5], "positive integers"),
        ([True], "positive integers"),
        (True, "positive integers"),
        ("10", "positive integers"),
    ],
)
def test_hidden_sizes_rejects_bad_sizes(hidden, message):
    with pytest.raises(ValueError, match=message):
        hidden_sizes(hidden)
    with pytest.raises(ValueError, match=message):
        RecommenderNet(5, 5, hidden=hidden)


# --- construction and parameter registration ----------------------------------------------


def test_the_original_default_hidden_10_works():
    net = RecommenderNet(7, 9)  # n_factors=50, hidden=10

    assert net(*batch(7, 9)).shape == (32, 1)
    assert isinstance(net.hidden, nn.Sequential)
    assert net.hidden[0].in_features == 100 and net.hidden[0].out_features == 10
    assert net.fc.in_features == 10


@pytest.mark.parametrize(
    ("n_users", "n_movies", "n_factors", "hidden", "dropout_rate"),
    [
        (7, 9, 50, 10, 0.2),
        (7, 9, 4, [6], 0.2),
        (20, 11, 8, [128, 256, 128], 0.2),
        (3, 5, 2, (5, 1), None),
        (943, 1682, 50, [64, 32], 0.0),
    ],
)
def test_every_parameter_is_registered_and_the_count_matches_the_formula(
    n_users, n_movies, n_factors, hidden, dropout_rate
):
    net = RecommenderNet(
        n_users, n_movies, n_factors=n_factors, hidden=hidden, dropout_rate=dropout_rate
    )
    expected = count_parameters_formula(n_users, n_movies, n_factors, hidden)

    assert n_registered(net) == expected
    n_linear = sum(isinstance(m, nn.Linear) for m in net.modules())
    assert n_linear == len(hidden_sizes(hidden)) + 1


def test_count_parameters_formula_by_hand():
    # (m + n) k + (2k + 1) h1 + (h1 + 1) h2 + h2 + 1 with m=3, n=5, k=2, hidden=[4, 3]:
    # 16 + 5*4 + 5*3 + 3 + 1 = 55
    assert count_parameters_formula(3, 5, 2, [4, 3]) == 55
    assert count_parameters_formula(3, 5, 2, 4) == 16 + 20 + 4 + 1


def test_the_original_model_with_layers_in_a_plain_list_registers_fewer_parameters():
    hidden = [128, 256, 128]
    original_net = OriginalRecommenderNet(20, 11, n_factors=8, hidden=hidden)
    fixed = RecommenderNet(20, 11, n_factors=8, hidden=hidden)

    missing = (16 + 1) * 128 + (128 + 1) * 256 + (256 + 1) * 128  # the three hidden Linear layers
    assert n_registered(fixed) == count_parameters_formula(20, 11, 8, hidden)
    assert n_registered(original_net) == n_registered(fixed) - missing


def test_the_original_model_keeps_its_hidden_dropout_on_in_eval_mode():
    """The contrast for the next test: eval() does not reach layers in a plain list."""
    torch.manual_seed(0)
    original_net = OriginalRecommenderNet(
        20, 11, n_factors=8, embedding_dropout=0.0, hidden=[32], dropout_rate=0.5
    )
    original_net.eval()
    users, movies = batch(20, 11)

    assert not torch.equal(original_net(users, movies), original_net(users, movies))


def test_eval_mode_is_deterministic():
    torch.manual_seed(0)
    net = RecommenderNet(
        20, 11, n_factors=8, embedding_dropout=0.5, hidden=[32, 16], dropout_rate=0.5
    )
    users, movies = batch(20, 11)

    net.eval()
    assert all(not m.training for m in net.modules())
    with torch.no_grad():
        assert torch.equal(net(users, movies), net(users, movies))


@pytest.mark.parametrize(("embedding_dropout", "dropout_rate"), [(0.5, 0.0), (0.0, 0.5)])
def test_train_mode_with_dropout_differs_between_calls(embedding_dropout, dropout_rate):
    torch.manual_seed(0)
    net = RecommenderNet(
        20,
        11,
        n_factors=8,
        embedding_dropout=embedding_dropout,
        hidden=[32],
        dropout_rate=dropout_rate,
    )
    users, movies = batch(20, 11)

    net.train()
    assert not torch.equal(net(users, movies), net(users, movies))


def test_train_mode_without_dropout_is_deterministic():
    net = RecommenderNet(20, 11, n_factors=8, embedding_dropout=0.0, hidden=[32], dropout_rate=None)
    users, movies = batch(20, 11)

    net.train()
    assert not any(isinstance(m, nn.Dropout) for m in net.hidden)
    assert torch.equal(net(users, movies), net(users, movies))


def test_all_parameters_get_gradients_after_one_backward():
    torch.manual_seed(0)
    net = RecommenderNet(20, 11, n_factors=8, hidden=[16, 8])
    users, movies = batch(20, 11, size=64)
    target = torch.full((64, 1), 4.0)

    nn.functional.mse_loss(net(users, movies), target).backward()

    for name, parameter in net.named_parameters():
        assert parameter.grad is not None, name
        assert parameter.grad.abs().sum() > 0, name
    names = {name for name, _ in net.named_parameters()}
    assert {
        "hidden.0.weight",
        "hidden.0.bias",
        "hidden.3.weight",
        "hidden.3.bias",
        "fc.weight",
    } <= names


def test_adam_on_parameters_trains_the_hidden_layers():
    torch.manual_seed(0)
    net = RecommenderNet(20, 11, n_factors=8, hidden=[16])
    before = net.hidden[0].weight.detach().clone()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
    users, movies = batch(20, 11)

    nn.functional.mse_loss(net(users, movies), torch.full((32, 1), 5.0)).backward()
    optimizer.step()

    assert not torch.equal(net.hidden[0].weight, before)


def test_the_initialisation_follows_the_original_scheme():
    torch.manual_seed(0)
    net = RecommenderNet(200, 300, n_factors=8, hidden=[16, 4])

    for embedding in (net.users, net.movies):
        assert embedding.weight.abs().max() <= 0.05
        assert embedding.weight.abs().max() > 0.04  # uniform on [-0.05, 0.05], not N(0, 1)
    for linear in (net.hidden[0], net.hidden[3], net.fc):
        assert torch.all(linear.bias == 0.01)
        bound = (6 / (linear.in_features + linear.out_features)) ** 0.5  # Xavier uniform
        assert linear.weight.abs().max() <= bound


# --- forward ------------------------------------------------------------------------


def test_output_shape_is_batch_by_one():
    net = RecommenderNet(20, 11, n_factors=8, hidden=[16])
    for size in (1, 5, 32):
        assert net(*batch(20, 11, size=size)).shape == (size, 1)


def test_embeddings_are_concatenated_users_then_movies():
    torch.manual_seed(0)
    net = RecommenderNet(20, 11, n_factors=4, embedding_dropout=0.0, hidden=[6])
    net.eval()
    seen = []
    net.hidden[0].register_forward_hook(lambda module, inputs, output: seen.append(inputs[0]))
    users, movies = batch(20, 11, size=8)

    net(users, movies)

    (first_linear_input,) = seen
    assert first_linear_input.shape == (8, 8)
    # columns 0..k-1 are the user embedding, k..2k-1 the movie embedding
    assert torch.equal(first_linear_input[:, :4], net.users.weight[users])
    assert torch.equal(first_linear_input[:, 4:], net.movies.weight[movies])


def extreme_net(bias: float) -> RecommenderNet:
    """A net whose final layer saturates the sigmoid at 0 or 1."""
    net = RecommenderNet(20, 11, n_factors=4, hidden=[6])
    with torch.no_grad():
        net.users.weight.normal_(0, 10)
        net.movies.weight.normal_(0, 10)
        net.fc.bias.fill_(bias)
    return net.eval()


def test_outputs_stay_inside_1_to_5():
    users, movies = batch(20, 11, size=200)
    for bias in (-1000.0, 0.0, 1000.0):
        out = extreme_net(bias)(users, movies)
        assert out.min() >= 1.0 and out.max() <= 5.0
    assert torch.all(extreme_net(1000.0)(users, movies) == 5.0)
    assert torch.all(extreme_net(-1000.0)(users, movies) == 1.0)
    assert not torch.isnan(RecommenderNet(20, 11, n_factors=4, hidden=[6])(users, movies)).any()


@pytest.mark.parametrize("minmax", [(0.5, 10.0), [1, 5], (-2.0, 2.0)])
def test_outputs_stay_inside_a_custom_minmax(minmax):
    low, high = minmax
    users, movies = batch(20, 11, size=200)

    assert torch.all(extreme_net(1000.0)(users, movies, minmax) == high)
    assert torch.all(extreme_net(-1000.0)(users, movies, minmax) == low)
    middle = extreme_net(0.0)(users, movies, minmax)
    assert middle.min() >= low and middle.max() <= high


def test_minmax_rescales_the_same_sigmoid():
    net = RecommenderNet(20, 11, n_factors=4, hidden=[6]).eval()
    users, movies = batch(20, 11)

    default = net(users, movies)
    custom = net(users, movies, (0.0, 10.0))

    assert torch.equal(default, net(users, movies, (1, 5)))
    # a + (b - a) s with s = (default - 1) / 4
    assert torch.allclose(custom, 10 * (default - 1) / 4, atol=1e-6)


def test_hidden_sizes_accepts_numpy_integers():
    import numpy as np

    from recsys_ref.nn import hidden_sizes

    assert hidden_sizes(np.int64(10)) == [10]
    assert hidden_sizes([np.int64(8), 4]) == [8, 4]


def test_the_original_default_hidden_10_crashes_where_the_fixed_one_works():
    with pytest.raises(TypeError):
        OriginalRecommenderNet(7, 9)  # hidden[-1] of an int
    assert RecommenderNet(7, 9).fc.in_features == 10


def test_the_tuned_settings_build_a_network():
    net = RecommenderNet(20, 11, **RECOMMENDER_NET_TUNED)

    assert dict(RECOMMENDER_NET_TUNED) == {
        "n_factors": 50,
        "hidden": (64,),
        "embedding_dropout": 0.3,
        "dropout_rate": 0.3,
    }
    assert n_registered(net) == count_parameters_formula(20, 11, 50, RECOMMENDER_NET_TUNED.hidden)
    assert net.drop.p == 0.3 and net.hidden[0].out_features == 64
