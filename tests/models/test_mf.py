"""Dense matrix factorization (the original notebook's five tasks, done right), DenseMF and BiasedMF.

Every test here runs on a few hand-written numbers or on small synthetic data
with a planted low-rank structure, in well under a second. Several tests put
the original notebook's version next to the reference one, to pin down what
the reference fixes: the loss averaged over all cells, the missing ``zero_grad``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from recsys_ref.data import make_synthetic_ratings, random_split, to_dense
from recsys_ref.metrics import rmse
from recsys_ref.mf import (
    DENSE_MF_TUNED,
    BiasedMF,
    DenseMF,
    DenseMFResult,
    DenseMFSettings,
    check_dense_mf_fits,
    clip_to_range,
    dense_mf_bytes,
    estimate,
    init_factors,
    masked_mse,
    minmax_to_range,
    train_dense_mf,
)

# --- a tiny matrix, written out ---------------------------------------------------
#
#   R = [[ 5, -1,  3],      E = [[1, 0, 1],      R_hat = [[4, 0, 3.5],
#        [-1,  2, -1]]           [0, 1, 0]]               [1, 2.5, 2 ]]
#
# Observed errors: 5 - 4 = 1, 3 - 3.5 = -0.5, 2 - 2.5 = -0.5; squares 1, 0.25, 0.25.
# masked MSE = (1 + 0.25 + 0.25) / |E| = 1.5 / 3 = 0.5.
# The seed's mean over all m n = 6 cells: 1.5 / 6 = 0.25 = 0.5 * |E| / (m n).

TINY_R = [[5.0, -1.0, 3.0], [-1.0, 2.0, -1.0]]
TINY_E = [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
TINY_EST = [[4.0, 0.0, 3.5], [1.0, 2.5, 2.0]]


def tiny():
    return torch.tensor(TINY_R), torch.tensor(TINY_EST), torch.tensor(TINY_E)


def seed_calc_loss(true_r, est_r, exist):
    """The seed notebook's loss, verbatim: a mean over every cell of the matrix."""
    true_exist = true_r * exist
    est_exist = est_r * exist
    diff = true_exist - est_exist
    return torch.mean(torch.square(diff))


# --- init_factors and estimate ------------------------------------------------------


def test_init_factors_have_the_seeds_shapes_and_are_trainable_leaves():
    user_factors, movies_factors = init_factors(4, 7, 5, seed=0)

    assert user_factors.shape == (4, 7)  # (n_factors, n_users)
    assert movies_factors.shape == (4, 5)  # (n_factors, n_movies)
    for factors in (user_factors, movies_factors):
        assert factors.is_leaf and factors.requires_grad
        assert factors.dtype == torch.float32


def test_init_factors_seeded_and_scaled():
    first = init_factors(10, 200, 300, seed=3, scale=0.1)
    again = init_factors(10, 200, 300, seed=3, scale=0.1)
    other = init_factors(10, 200, 300, seed=4, scale=0.1)

    for a, b in zip(first, again):
        assert torch.equal(a, b)
    assert not torch.equal(first[0], other[0])
    # Gaussian with standard deviation `scale`, centred on 0 (not the seed's uniform [0, 1)).
    assert first[0].std().item() == pytest.approx(0.1, rel=0.05)
    assert abs(first[1].mean().item()) < 0.01


def test_estimate_is_user_factors_transposed_times_movie_factors():
    # k = 2, m = 3 users, n = 4 movies: a transposed product would not even have shape (3, 4).
    user_factors = torch.tensor([[1.0, 2.0, 0.0], [0.0, 1.0, 3.0]])
    movies_factors = torch.tensor([[1.0, 0.0, 2.0, 1.0], [1.0, 1.0, 0.0, -1.0]])

    result = estimate(user_factors, movies_factors)

    # entry [u, i] = user u's factor column . movie i's factor column
    expected = torch.tensor(
        [
            [1.0, 0.0, 2.0, 1.0],  # user 0 = (1, 0)
            [3.0, 1.0, 4.0, 1.0],  # user 1 = (2, 1)
            [3.0, 3.0, 0.0, -3.0],  # user 2 = (0, 3)
        ]
    )
    assert result.shape == (3, 4)
    assert torch.equal(result, expected)


# --- masked_mse -------------------------------------------------------------------


def test_masked_mse_matches_the_hand_computation():
    true_r, est_r, exist = tiny()

    assert masked_mse(true_r, est_r, exist).item() == pytest.approx(0.5)


def test_masked_mse_is_not_the_seeds_mean_over_all_cells():
    true_r, est_r, exist = tiny()
    ours = masked_mse(true_r, est_r, exist).item()
    seed = seed_calc_loss(true_r, est_r, exist).item()

    assert seed == pytest.approx(0.25)
    assert seed != pytest.approx(ours)
    # The seed's value is ours shrunk by the density |E| / (m n) = 3 / 6.
    assert seed == pytest.approx(ours * exist.sum().item() / exist.numel())


@pytest.mark.parametrize("filler", [-1.0, float("nan"), 100.0, float("inf")])
def test_masked_mse_ignores_what_unobserved_cells_hold(filler):
    true_r, est_r, exist = tiny()
    true_r = torch.where(exist > 0, true_r, torch.tensor(filler))
    est_r = est_r.clone().requires_grad_()

    loss = masked_mse(true_r, est_r, exist)
    loss.backward()

    assert loss.item() == pytest.approx(0.5)
    # The gradient reaches observed cells only (2 (R_hat - R) / |E|) and is finite.
    expected_grad = torch.tensor([[-2.0 / 3, 0.0, 1.0 / 3], [0.0, 1.0 / 3, 0.0]])
    assert torch.allclose(est_r.grad, expected_grad)


def test_masked_mse_does_not_depend_on_estimates_in_unobserved_cells():
    true_r, est_r, exist = tiny()
    wild = torch.where(exist > 0, est_r, torch.tensor(1e6))

    assert masked_mse(true_r, wild, exist).item() == pytest.approx(0.5)


def test_masked_mse_accepts_the_seeds_integer_tensors_and_a_boolean_mask():
    true_r, est_r, exist = tiny()

    assert masked_mse(true_r.long(), est_r, exist.long()).item() == pytest.approx(0.5)
    assert masked_mse(true_r, est_r, exist.bool()).item() == pytest.approx(0.5)


def test_masked_mse_on_to_dense_equals_the_mse_over_the_rating_rows():
    """The mask from to_dense selects exactly the rated cells of a ratings frame."""
    ratings, _ = make_synthetic_ratings(15, 10, density=0.3, seed=4)
    dense = to_dense(ratings, 15, 10)
    est_r = torch.randn(15, 10, generator=torch.Generator().manual_seed(0)) + 3

    assert dense.exist.sum().item() == len(ratings)
    rows = est_r[ratings["user_id"].to_numpy() - 1, ratings["item_id"].to_numpy() - 1].numpy()
    expected = np.mean((ratings["rating"].to_numpy() - rows) ** 2)
    assert masked_mse(dense.ratings, est_r, dense.exist).item() == pytest.approx(expected, rel=1e-5)


def test_masked_mse_raises_on_shape_mismatch():
    true_r, est_r, exist = tiny()

    with pytest.raises(ValueError, match="shapes differ"):
        masked_mse(true_r, est_r.T, exist)
    with pytest.raises(ValueError, match="shapes differ"):
        masked_mse(true_r, est_r, exist[:1])


def test_masked_mse_raises_when_nothing_is_observed():
    true_r, est_r, exist = tiny()

    with pytest.raises(ValueError, match="no observed entry"):
        masked_mse(true_r, est_r, torch.zeros_like(exist))


# --- minmax_to_range and clip_to_range ------------------------------------------------


def test_minmax_maps_min_to_low_max_to_high_and_keeps_the_order():
    estimated = torch.tensor([[12.0, 10.0], [14.0, 11.0]])

    scaled = minmax_to_range(estimated)

    # 1 + 4 (x - 10) / (14 - 10) = x - 9
    assert torch.equal(scaled, torch.tensor([[3.0, 1.0], [5.0, 2.0]]))


def test_minmax_output_inside_a_custom_range():
    estimated = torch.randn(30, 20, generator=torch.Generator().manual_seed(0)) * 50

    scaled = minmax_to_range(estimated, low=0.5, high=10.0)

    assert scaled.shape == estimated.shape
    assert scaled.min().item() == 0.5 and scaled.max().item() == 10.0
    assert not torch.isnan(scaled).any()
    assert torch.equal(scaled.flatten().argsort(), estimated.flatten().argsort())  # order kept


def test_minmax_of_a_constant_matrix_is_the_midpoint_not_nan():
    scaled = minmax_to_range(torch.full((3, 4), 7.0))

    assert not torch.isnan(scaled).any()
    assert torch.equal(scaled, torch.full((3, 4), 3.0))


def test_minmax_moves_in_range_estimates_but_clip_does_not():
    estimated = torch.tensor([1.0, 2.0, 3.0, 4.0, 40.0])  # one wild estimate

    # Min-max drags every good estimate down because of the 40 ...
    assert minmax_to_range(estimated)[1].item() == pytest.approx(1 + 4 / 39)
    # ... clipping leaves the in-range ones alone and caps the wild one.
    assert torch.equal(clip_to_range(estimated), torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0]))


def test_clip_leaves_in_range_values_unchanged_and_caps_the_rest():
    estimated = torch.tensor([[-3.0, 1.0, 2.7], [5.0, 5.01, 4.99]])

    assert torch.equal(clip_to_range(estimated), torch.tensor([[1.0, 1.0, 2.7], [5.0, 5.0, 4.99]]))
    assert torch.equal(
        clip_to_range(estimated, low=2.0, high=3.0),
        torch.tensor([[2.0, 2.0, 2.7], [3.0, 3.0, 3.0]]),
    )


@pytest.mark.parametrize("rescale", [minmax_to_range, clip_to_range])
def test_rescaling_refuses_high_below_low(rescale):
    with pytest.raises(ValueError, match="must not be below"):
        rescale(torch.tensor([1.0, 2.0]), low=5.0, high=1.0)


# --- train_dense_mf: zero_grad every step ------------------------------------------------


class SpyAdam(torch.optim.Adam):
    """Adam that records each zero_grad call, and the parameters and gradients at each step."""

    instances: list[SpyAdam] = []

    def __init__(self, params, **kwargs):
        super().__init__(params, **kwargs)
        self.zero_grad_calls = 0
        self.snapshots: list[tuple[list[torch.Tensor], list[torch.Tensor]]] = []
        SpyAdam.instances.append(self)

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.zero_grad_calls += 1
        super().zero_grad(set_to_none)

    def step(self, closure=None):
        params = self.param_groups[0]["params"]
        self.snapshots.append(
            ([p.detach().clone() for p in params], [p.grad.clone() for p in params])
        )
        return super().step(closure)


@pytest.fixture
def spy_adam(monkeypatch):
    SpyAdam.instances = []
    monkeypatch.setattr(torch.optim, "Adam", SpyAdam)
    return SpyAdam


def fresh_gradients(user_factors, movies_factors, ratings, exist, weight_decay=0.0):
    """dL/dU and dL/dV from the closed form, independent of autograd and masked_mse.

    With G = 2 E * (U^T V - R) / |E| (the gradient with respect to R_hat),
    dL/dU = V G^T + 2 lambda U / |E| and dL/dV = U G + 2 lambda V / |E|.
    """
    n_observed = exist.sum()
    residual = torch.where(
        exist > 0, user_factors.T @ movies_factors - ratings, torch.zeros_like(ratings)
    )
    g = 2 * residual / n_observed
    grad_u = movies_factors @ g.T + 2 * weight_decay * user_factors / n_observed
    grad_v = user_factors @ g + 2 * weight_decay * movies_factors / n_observed
    return grad_u, grad_v


@pytest.fixture(scope="module")
def small_dense():
    ratings, _ = make_synthetic_ratings(12, 9, rank=2, density=0.5, seed=0)
    return to_dense(ratings, 12, 9)


def test_train_dense_mf_calls_zero_grad_once_per_epoch(spy_adam, small_dense):
    train_dense_mf(small_dense.ratings, small_dense.exist, n_factors=3, epochs=7)

    (optimizer,) = spy_adam.instances
    assert optimizer.zero_grad_calls == 7
    assert len(optimizer.snapshots) == 7


@pytest.mark.parametrize("weight_decay", [0.0, 0.5])
def test_train_dense_mf_steps_with_fresh_gradients(spy_adam, small_dense, weight_decay):
    ratings, exist = small_dense
    train_dense_mf(ratings, exist, n_factors=3, epochs=4, lr=0.05, weight_decay=weight_decay)

    (optimizer,) = spy_adam.instances
    for params, grads in optimizer.snapshots:
        # The gradient used at every step is the one of the current parameters alone.
        expected = fresh_gradients(*params, ratings, exist, weight_decay)
        for grad, want in zip(grads, expected):
            assert torch.allclose(grad, want, rtol=1e-5, atol=1e-7)


def test_seed_style_loop_without_zero_grad_accumulates_gradients(spy_adam, small_dense):
    """The contrast: the seed's loop hands the optimizer the sum of all gradients so far."""
    ratings, exist = small_dense
    user_factors, movies_factors = init_factors(3, *ratings.shape, seed=0)
    optimizer = torch.optim.Adam([user_factors, movies_factors], lr=0.05)
    for _ in range(2):
        loss = masked_mse(ratings, estimate(user_factors, movies_factors), exist)
        loss.backward()  # no zero_grad, as in the seed
        optimizer.step()

    (params_1, grads_1), (params_2, grads_2) = spy_adam.instances[0].snapshots
    fresh_2 = fresh_gradients(*params_2, ratings, exist)
    for accumulated, old, fresh in zip(grads_2, grads_1, fresh_2):
        assert not torch.allclose(accumulated, fresh, rtol=1e-3)
        assert torch.allclose(accumulated, old + fresh, rtol=1e-5, atol=1e-7)


def test_train_dense_mf_result_shapes_and_loss_curve(small_dense):
    ratings, exist = small_dense
    result = train_dense_mf(ratings, exist, n_factors=3, epochs=5, seed=2)

    assert isinstance(result, DenseMFResult)
    assert result.user_factors.shape == (3, 12)
    assert result.movies_factors.shape == (3, 9)
    assert not result.user_factors.requires_grad and not result.movies_factors.requires_grad
    assert result.estimated().shape == (12, 9)
    assert torch.equal(result.estimated(), result.user_factors.T @ result.movies_factors)
    assert len(result.losses) == 5
    # losses[0] is measured before the first step, on the seeded initial factors.
    initial = init_factors(3, 12, 9, seed=2)
    assert result.losses[0] == pytest.approx(masked_mse(ratings, estimate(*initial), exist).item())


def test_train_dense_mf_is_deterministic_for_a_seed(small_dense):
    ratings, exist = small_dense
    first = train_dense_mf(ratings, exist, n_factors=3, epochs=10, seed=1)
    again = train_dense_mf(ratings, exist, n_factors=3, epochs=10, seed=1)
    other = train_dense_mf(ratings, exist, n_factors=3, epochs=10, seed=2)

    assert torch.equal(first.user_factors, again.user_factors)
    assert first.losses == again.losses
    assert not torch.equal(first.user_factors, other.user_factors)


def test_train_dense_mf_ignores_unobserved_cells(small_dense):
    ratings, exist = small_dense
    other_filler = torch.where(exist > 0, ratings, torch.tensor(100.0))

    first = train_dense_mf(ratings, exist, n_factors=3, epochs=10)
    again = train_dense_mf(other_filler, exist, n_factors=3, epochs=10)

    assert torch.equal(first.user_factors, again.user_factors)


# --- recovering a planted low-rank matrix ------------------------------------------------


def test_dense_mf_recovers_an_exact_low_rank_matrix():
    """On the noiseless planted matrix itself, 40 % of cells seen, held-out cells are recovered."""
    _, true_matrix = make_synthetic_ratings(60, 40, rank=3, seed=0)
    rng = np.random.default_rng(0)
    observed = rng.random(true_matrix.shape) < 0.5
    held_out = observed & (rng.random(true_matrix.shape) < 0.2)
    train = observed & ~held_out
    ratings = torch.tensor(np.where(train, true_matrix, -1.0), dtype=torch.float32)
    exist = torch.tensor(train, dtype=torch.float32)

    # 3 + U V^T has rank 4: the constant 3 takes one factor.
    result = train_dense_mf(ratings, exist, n_factors=4, epochs=500, lr=0.05)
    estimated = result.estimated().numpy()

    train_rmse = np.sqrt(np.mean((estimated - true_matrix)[train] ** 2))
    held_out_rmse = np.sqrt(np.mean((estimated - true_matrix)[held_out] ** 2))
    mean_rmse = np.sqrt(np.mean((true_matrix[train].mean() - true_matrix)[held_out] ** 2))
    assert result.losses[-1] < 1e-3 * result.losses[0]
    assert train_rmse < 0.02
    assert mean_rmse > 1.0
    assert held_out_rmse < 0.05


@pytest.fixture(scope="module")
def planted_split():
    """Integer ratings (rounded, noise 0) from a planted rank-3 matrix, 80/20 random split."""
    ratings, _ = make_synthetic_ratings(60, 40, rank=3, density=0.5, noise=0.0, seed=0)
    return random_split(ratings, test_fraction=0.2, seed=0)


def global_mean_rmse(train, test):
    return rmse(test["rating"], np.full(len(test), train["rating"].mean()))


def test_dense_mf_beats_the_global_mean_on_held_out_ratings(planted_split):
    train, test = planted_split
    dense = to_dense(train, 60, 40)

    result = train_dense_mf(dense.ratings, dense.exist, n_factors=5, epochs=500, lr=0.05)
    estimated = clip_to_range(result.estimated()).numpy()

    def rmse_on(part):
        return rmse(part["rating"], estimated[part["user_id"] - 1, part["item_id"] - 1])

    assert rmse_on(train) < 0.3
    assert rmse_on(test) < 0.6 * global_mean_rmse(train, test)


# --- BiasedMF ----------------------------------------------------------------------------

FAST = dict(n_factors=5, epochs=40, lr=0.05, lr_decay=0.97, batch_size=256, reg=0.01)


def test_biased_mf_beats_the_global_mean_on_held_out_ratings(planted_split):
    train, test = planted_split

    model = BiasedMF(**FAST).fit(train)

    assert rmse(train["rating"], model.predict(train["user_id"], train["item_id"])) < 0.35
    test_rmse = rmse(test["rating"], model.predict(test["user_id"], test["item_id"]))
    assert test_rmse < 0.6 * global_mean_rmse(train, test)


def test_biased_mf_fit_returns_self_and_sets_its_attributes(planted_split):
    train, _ = planted_split
    model = BiasedMF(n_factors=4, epochs=2)

    assert model.fit(train) is model
    assert model.global_mean == pytest.approx(train["rating"].mean(), rel=1e-6)
    assert model.bu.shape == (60,) and model.bi.shape == (40,)  # 0-based: entry id - 1
    assert model.pu.shape == (60, 4) and model.qi.shape == (40, 4)
    assert len(model.losses) == 2
    # The aliases of earlier releases, indexed by raw id (row 0 unused), for the book until it switches.
    assert model.user_bias.shape == (61,) and model.item_factors.shape == (41, 4)
    np.testing.assert_array_equal(model.item_factors[1:], model.qi)
    np.testing.assert_array_equal(model.seen_users[1:], model.known_users)


def test_biased_mf_predict_before_fit_raises():
    with pytest.raises(RuntimeError, match="before fit"):
        BiasedMF().predict([1], [1])


def test_biased_mf_fit_on_no_ratings_raises():
    empty = pd.DataFrame({"user_id": [], "item_id": [], "rating": []})
    with pytest.raises(ValueError, match="at least one rating"):
        BiasedMF().fit(empty)


def test_biased_mf_predictions_are_clipped_to_the_rating_range(planted_split):
    train, _ = planted_split
    users = np.repeat(np.arange(1, 61), 40)
    items = np.tile(np.arange(1, 41), 60)

    wide = BiasedMF(**FAST).fit(train).predict(users, items)
    narrow = BiasedMF(**FAST, rating_range=(2.5, 3.5)).fit(train).predict(users, items)

    assert wide.min() >= 1.0 and wide.max() <= 5.0
    assert wide.min() == 1.0 or wide.max() == 5.0  # some raw estimates do leave [1, 5]
    assert narrow.min() == 2.5 and narrow.max() == 3.5


def test_biased_mf_fallbacks_for_unknown_users_and_items_are_exact():
    # Users 1, 2, 4 and items 1, 2, 3, 5: user 3 and item 4 fall inside the id
    # range (so they have rows with random initial factors) but were never seen.
    train = pd.DataFrame(
        {
            "user_id": [1, 1, 2, 2, 4, 4, 1, 2],
            "item_id": [1, 2, 2, 3, 1, 5, 5, 1],
            "rating": [5, 3, 4, 2, 1, 4, 4, 5],
        }
    )
    model = BiasedMF(n_factors=3, epochs=20, lr=0.05, rating_range=(-100.0, 100.0)).fit(train)
    mu, bu, bi = (
        model.global_mean,
        model.user_bias,
        model.item_bias,
    )  # raw-id aliases: bu[u] is user u's
    assert np.all(model.qi[3] != 0) and np.all(
        model.pu[2] != 0
    )  # user 3 and item 4 keep their random start

    unknown_users = model.predict([3, 99], [2, 2])
    unknown_items = model.predict([1, 1], [4, 77])
    both_unknown = model.predict([3, 99], [4, 77])
    known = model.predict([2], [3])

    np.testing.assert_allclose(unknown_users, mu + bi[2], rtol=1e-6)
    np.testing.assert_allclose(unknown_items, mu + bu[1], rtol=1e-6)
    np.testing.assert_allclose(both_unknown, mu, rtol=1e-6)
    np.testing.assert_allclose(
        known, mu + bu[2] + bi[3] + model.user_factors[2] @ model.item_factors[3], rtol=1e-5
    )


def test_biased_mf_fallbacks_are_clipped_too():
    train = pd.DataFrame({"user_id": [1, 2], "item_id": [1, 2], "rating": [5, 5]})
    model = BiasedMF(n_factors=2, epochs=1, rating_range=(1.0, 4.0)).fit(train)

    assert model.predict([99], [99])[0] == 4.0  # mu = 5, clipped


def test_biased_mf_is_deterministic_for_a_seed_and_seeds_differ(planted_split):
    train, test = planted_split
    settings = dict(n_factors=4, epochs=3, batch_size=128)

    def predictions(seed):
        return BiasedMF(**settings, seed=seed).fit(train).predict(test["user_id"], test["item_id"])

    first = predictions(0)
    assert np.array_equal(first, predictions(0))
    assert not np.allclose(first, predictions(1))


@pytest.mark.parametrize(
    "change",
    [
        dict(reg=0.5),
        dict(bias_reg=1.0),
        dict(n_factors=2),
        dict(lr=0.003),
        dict(lr_decay=0.5),
        dict(epochs=4),
        dict(batch_size=64),
        dict(init_std=0.5),
        dict(optimizer="sparse_adam"),
    ],
    ids=lambda change: next(iter(change)),
)
def test_biased_mf_every_hyperparameter_changes_the_result(planted_split, change):
    """Each argument must reach the training (a typo'd or ignored one would not)."""
    train, test = planted_split
    base = dict(
        n_factors=4,
        epochs=6,
        lr=0.02,
        lr_decay=0.9,
        reg=0.05,
        bias_reg=0.01,
        batch_size=256,
        init_std=0.1,
    )

    def test_rmse(settings):
        model = BiasedMF(**settings).fit(train)
        return rmse(test["rating"], model.predict(test["user_id"], test["item_id"]))

    assert test_rmse({**base, **change}) != pytest.approx(test_rmse(base), abs=1e-4)


def test_biased_mf_predict_rejects_unequal_id_lengths():
    from recsys_ref.data import make_synthetic_ratings
    from recsys_ref.mf import BiasedMF

    ratings, _ = make_synthetic_ratings(10, 8, seed=0)
    model = BiasedMF(n_factors=2, epochs=1).fit(ratings)
    with pytest.raises(ValueError, match="1 user ids but 3 item ids"):
        model.predict([1], [1, 2, 3])


def test_biased_mf_fit_leaves_global_torch_state_alone():
    from recsys_ref.data import make_synthetic_ratings
    from recsys_ref.mf import BiasedMF

    ratings, _ = make_synthetic_ratings(10, 8, seed=0)
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    BiasedMF(n_factors=2, epochs=1).fit(ratings)
    assert torch.equal(torch.rand(3), expected)
    assert torch.get_num_threads() == threads


def test_biased_mf_with_sparse_adam_learns_as_well(planted_split):
    """Lazy Adam updates only the rows of each batch; it must learn the planted structure too."""
    train, test = planted_split

    model = BiasedMF(**FAST, optimizer="sparse_adam").fit(train)

    test_rmse = rmse(test["rating"], model.predict(test["user_id"], test["item_id"]))
    assert test_rmse < 0.6 * global_mean_rmse(train, test)


def test_biased_mf_rejects_an_unknown_optimizer():
    with pytest.raises(ValueError, match="optimizer must be 'auto', 'adam' or 'sparse_adam'"):
        BiasedMF(optimizer="sgd")


def test_biased_mf_auto_takes_sparse_steps_from_a_million_ratings(monkeypatch):
    """'auto' is Adam below SPARSE_FROM ratings (the book's numbers) and SparseAdam from there on."""
    import recsys_ref.mf as mf

    ratings, _ = make_synthetic_ratings(30, 20, rank=2, density=0.5, seed=0)
    chosen = []
    real = torch.optim.SparseAdam

    class Spy(real):
        def __init__(self, *args, **kwargs):
            chosen.append("sparse")
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(torch.optim, "SparseAdam", Spy)
    dense = BiasedMF(n_factors=2, epochs=1).fit(ratings)
    monkeypatch.setattr(mf, "SPARSE_FROM", len(ratings))
    sparse = BiasedMF(n_factors=2, epochs=1).fit(ratings)
    assert chosen == ["sparse"], "Adam below SPARSE_FROM ratings, SparseAdam from there on"
    assert dense.optimizer == sparse.optimizer == "auto"


def test_biased_mf_scores_are_its_unclipped_predictions(planted_split):
    train, _ = planted_split
    model = BiasedMF(**FAST).fit(train)
    users = np.array([1, 7, 60, 99])  # 99 is unknown

    scores = model.score_items(users, n_items=45)  # items 41..45 are unknown

    model.rating_range = (-np.inf, np.inf)
    expected = model.predict(np.repeat(users, 45), np.tile(np.arange(1, 46), 4)).reshape(4, 45)
    np.testing.assert_allclose(scores, expected, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(scores[3], model.global_mean + np.r_[model.bi, np.zeros(5)])


# --- DenseMF: the fixed dense model as a rating predictor ------------------------------------


def test_dense_mf_settings_read_like_a_dataclass_and_unpack_like_a_dict():
    assert DENSE_MF_TUNED.weight_decay == 5.0
    assert dict(DENSE_MF_TUNED) == {"n_factors": 50, "epochs": 250, "lr": 0.01, "weight_decay": 5.0}
    assert DenseMFSettings() != DENSE_MF_TUNED
    with pytest.raises(AttributeError):
        DENSE_MF_TUNED.weight_decay = 1.0  # frozen: the book and the benchmark share it


def test_dense_mf_defaults_are_the_tuned_settings():
    model = DenseMF()

    assert {name: getattr(model, name) for name in DENSE_MF_TUNED} == dict(DENSE_MF_TUNED)


def test_dense_mf_predicts_what_train_dense_mf_estimates(planted_split):
    train, test = planted_split
    settings = dict(n_factors=5, epochs=200, lr=0.05, weight_decay=0.1)

    model = DenseMF(**settings, shape=(60, 40), seed=3).fit(train)
    dense = to_dense(train, 60, 40)
    estimated = clip_to_range(
        train_dense_mf(dense.ratings, dense.exist, **settings, seed=3).estimated()
    ).numpy()

    predicted = model.predict(test["user_id"], test["item_id"])
    known = test["item_id"].isin(train["item_id"]) & test["user_id"].isin(train["user_id"])
    np.testing.assert_allclose(
        predicted[known],
        estimated[test["user_id"][known] - 1, test["item_id"][known] - 1],
        rtol=1e-5,
    )
    assert rmse(test["rating"], predicted) < 0.6 * global_mean_rmse(train, test)


def test_dense_mf_estimates_inside_the_matrix_and_falls_back_to_the_mean_outside():
    train = pd.DataFrame({"user_id": [1, 1, 3], "item_id": [1, 3, 3], "rating": [5, 3, 4]})
    model = DenseMF(n_factors=2, epochs=5, shape=(4, 4), rating_range=(-100.0, 100.0)).fit(train)

    # User 2 and item 2 (and 4) are inside the matrix without a rating: the factors answer.
    inside = model.predict([2, 1, 4], [1, 2, 4])
    np.testing.assert_allclose(inside, (model.pu[[1, 0, 3]] * model.qi[[0, 1, 3]]).sum(axis=1))
    # Ids 5 and 6 are above it: the mean.
    np.testing.assert_allclose(model.predict([5, 1, 6], [1, 5, 6]), model.global_mean)


def test_dense_mf_shape_must_cover_the_training_ids(planted_split):
    train, _ = planted_split
    with pytest.raises(ValueError, match="too small"):
        DenseMF(epochs=1, shape=(10, 40)).fit(train)


def test_dense_model_memory_grows_with_users_times_items():
    assert dense_mf_bytes(1000, 2000) == 2 * dense_mf_bytes(1000, 1000) == 9 * 4 * 2_000_000


def test_a_dense_model_that_cannot_fit_is_refused_with_its_size():
    # MovieLens 10M's shape: 69,878 users x 10,677 items.
    with pytest.raises(
        MemoryError, match=r"69,878 users x 10,677 items .* needs about 26\.9 GB .* 4\.0 GB"
    ):
        check_dense_mf_fits(69_878, 10_677, available_bytes=4 * 10**9)
    check_dense_mf_fits(943, 1682, available_bytes=4 * 10**9)  # MovieLens 100K fits


def test_train_dense_mf_refuses_before_training(monkeypatch, small_dense):
    monkeypatch.setattr("recsys_ref.mf.available_memory_bytes", lambda: 100)

    with pytest.raises(MemoryError, match="12 users x 9 items"):
        train_dense_mf(small_dense.ratings, small_dense.exist, n_factors=2, epochs=1)
