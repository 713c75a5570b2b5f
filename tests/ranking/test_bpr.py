"""BPR-MF: the loss (stable at any score difference), the L2 term, the model and the training loop."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from recsys_ref.implicit import BPRMF, BPRModel, batch_l2, bpr_loss, interaction_matrix, train_bpr
from recsys_ref.threads import torch_threads


def test_bpr_loss_by_hand():
    # Equal scores: -log sigmoid(0) = log 2. A margin of 2: log(1 + e^-2).
    assert bpr_loss(torch.tensor([0.0]), torch.tensor([0.0])).item() == pytest.approx(math.log(2))
    both = bpr_loss(torch.tensor([3.0, 1.0]), torch.tensor([1.0, 1.0])).item()
    assert both == pytest.approx((math.log1p(math.exp(-2)) + math.log(2)) / 2)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_bpr_loss_is_stable_at_large_score_differences(dtype):
    positive = torch.tensor([-500.0, 500.0, 0.0], dtype=dtype, requires_grad=True)
    negative = torch.tensor([500.0, -500.0, 0.0], dtype=dtype)

    loss = bpr_loss(positive, negative)
    loss.backward()

    # Differences -1000 (loss 1000), +1000 (loss 0) and 0 (loss log 2), averaged.
    assert torch.isfinite(loss) and loss.item() == pytest.approx((1000 + 0 + math.log(2)) / 3, rel=1e-6)
    assert torch.isfinite(positive.grad).all()
    assert positive.grad.tolist() == pytest.approx([-1 / 3, 0.0, -1 / 6], abs=1e-6)
    # The naive form overflows where the stable one does not.
    naive = -torch.log(torch.sigmoid(positive.detach() - negative)).mean()
    assert not torch.isfinite(naive)


def test_bpr_loss_refuses_mismatched_or_empty_batches():
    with pytest.raises(ValueError, match="shape"):
        bpr_loss(torch.zeros(3), torch.zeros(2))
    with pytest.raises(ValueError, match="at least one"):
        bpr_loss(torch.zeros(0), torch.zeros(0))


def test_batch_l2_is_the_squared_norm_per_triple():
    p_u = torch.tensor([[1.0, 2.0], [0.0, 1.0]])  # squares 5 and 1
    q_i = torch.tensor([[1.0, 0.0], [1.0, 1.0]])  # 1 and 2
    b_i = torch.tensor([3.0, 0.0])  # 9 and 0
    assert batch_l2(p_u, q_i, b_i).item() == pytest.approx((5 + 1 + 1 + 2 + 9) / 2)
    with pytest.raises(ValueError, match="same non-zero batch size"):
        batch_l2(p_u, torch.zeros(3))


def test_model_scores_pairs_and_all_items_consistently():
    model = BPRModel(5, 7, 3, seed=0)
    with torch.no_grad():
        model.item_bias.weight.copy_(torch.arange(7.0).unsqueeze(1))
    users, items = torch.tensor([0, 4, 4]), torch.tensor([6, 0, 3])

    pairs = model.score(users, items)
    expected = (model.user_factors.weight[users] * model.item_factors.weight[items]).sum(1) + items.float()
    assert torch.allclose(pairs, expected)
    assert torch.allclose(model.score_all(users)[torch.arange(3), items], pairs)
    assert model.score_all(users).shape == (3, 7)
    without = BPRModel(5, 7, 3, item_bias=False, seed=0)
    assert without.item_bias is None and torch.allclose(without(users, items), expected - items.float())


def test_same_seed_same_initial_factors():
    assert torch.equal(
        BPRModel(4, 6, 2, seed=3).user_factors.weight, BPRModel(4, 6, 2, seed=3).user_factors.weight
    )
    assert not torch.equal(
        BPRModel(4, 6, 2, seed=3).item_factors.weight, BPRModel(4, 6, 2, seed=4).item_factors.weight
    )


def test_training_lowers_the_loss_and_is_reproducible(planted):
    matrix = interaction_matrix(planted.train, planted.n_users, planted.n_items, 4.0)
    histories, factors = [], []
    for _ in range(2):
        model = BPRModel(planted.n_users, planted.n_items, 8, seed=0)
        with torch_threads(1):  # many tiny steps: threads only wait for each other
            histories.append(train_bpr(model, matrix, n_epochs=15, batch_size=128, lr=0.02, reg=1e-3, seed=1))
        factors.append(model.item_factors.weight.detach().clone())

    history = histories[0]
    assert len(history.bpr) == 15 and history.bpr[0] == pytest.approx(math.log(2), abs=0.05)
    assert history.bpr[-1] < 0.5 * history.bpr[0]
    assert all(o >= b for o, b in zip(history.objective, history.bpr))  # the L2 term is >= 0
    assert histories[0].objective == histories[1].objective
    assert torch.equal(factors[0], factors[1])


def test_sgd_also_learns(planted):
    model = BPRMF(n_factors=8, n_epochs=20, batch_size=64, lr=2.0, reg=1e-3, optimizer="sgd", threshold=4.0)
    model.fit(planted.train, n_users=planted.n_users, n_items=planted.n_items)
    assert model.history.bpr[-1] < 0.6 * model.history.bpr[0]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"n_epochs": 0}, "n_epochs >= 1"),
        ({"lr": 0.0}, "lr > 0"),
        ({"reg": -1.0}, "reg >= 0"),
        ({"optimizer": "rmsprop"}, "'adam' or 'sgd'"),
    ],
)
def test_train_bpr_refuses_bad_settings(options, message):
    with pytest.raises(ValueError, match=message):
        train_bpr(BPRModel(2, 3, 2), torch.tensor([[1.0, 0, 0], [0, 1.0, 0]]), **options)


def test_train_bpr_refuses_a_mismatched_matrix_or_a_user_with_every_item():
    with pytest.raises(ValueError, match="3 x 4 but the model has 2 users and 3 items"):
        train_bpr(BPRModel(2, 3, 2), torch.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"user row 1 \(user id 2\) interacted with every item"):
        train_bpr(BPRModel(2, 3, 2), torch.tensor([[1.0, 0, 0], [1.0, 1.0, 1.0]]))


def test_bprmf_runs_single_threaded_and_restores_the_thread_count(planted):
    before = torch.get_num_threads()
    BPRMF(n_factors=4, n_epochs=1, threshold=4.0).fit(
        planted.train, n_users=planted.n_users, n_items=planted.n_items
    )
    assert torch.get_num_threads() == before
    assert np.isfinite(BPRMF(n_factors=4, n_epochs=1).fit(planted.train).score_items([1])).all()
