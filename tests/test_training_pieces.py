"""recsys_ref.grading.training: reference pieces in place of failing ones, so each mf task is graded on its own."""

from __future__ import annotations

import pytest
import torch

from recsys_ref.grading import check_training_reduced_loss, training_pieces, usable_factors
from recsys_ref.mf import estimate as reference_estimate
from recsys_ref.mf import masked_mse

K, M, N = 3, 4, 5


def _good() -> dict:
    users = (0.1 * torch.randn(K, M)).requires_grad_()
    movies = (0.1 * torch.randn(K, N)).requires_grad_()

    def estimate(u, v):
        return u.T @ v

    def calc_loss(true_r, est_r, exist):
        return (exist * (true_r - est_r) ** 2).sum() / exist.sum()

    return {"user_factors": users, "movies_factors": movies,
            "optimizer": torch.optim.SGD([users, movies], lr=0.5), "estimate": estimate, "calc_loss": calc_loss}


def test_working_pieces_are_used_unchanged():
    ns = _good()
    pieces = training_pieces(ns, K, M, N, verbose=False)
    assert pieces.substituted == []
    assert pieces.user_factors is ns["user_factors"] and pieces.optimizer is ns["optimizer"]
    assert pieces.estimate is ns["estimate"] and pieces.calc_loss is ns["calc_loss"]


def test_failing_estimate_and_loss_are_replaced_by_the_reference():
    ns = _good()
    ns["estimate"] = lambda u, v: u * 1.0
    ns["calc_loss"] = lambda t, e, x: ((t - e) ** 2).sum()
    pieces = training_pieces(ns, K, M, N, verbose=False)
    assert pieces.substituted == ["estimate", "calc_loss"]
    assert pieces.estimate is reference_estimate and pieces.calc_loss is masked_mse


def test_optimizer_over_one_tensor_is_rebuilt_with_the_students_class_and_settings():
    ns = _good()
    ns["optimizer"] = torch.optim.SGD([ns["movies_factors"]], lr=0.3)
    pieces = training_pieces(ns, K, M, N, verbose=False)
    assert pieces.substituted == ["optimizer"]
    assert type(pieces.optimizer) is torch.optim.SGD and pieces.optimizer.defaults["lr"] == 0.3
    held = pieces.optimizer.param_groups[0]["params"]
    assert held[0] is ns["user_factors"] and held[1] is ns["movies_factors"]


def test_unusable_optimizer_becomes_adam():
    ns = _good()
    ns["optimizer"] = "not an optimizer"
    pieces = training_pieces(ns, K, M, N, verbose=False)
    assert isinstance(pieces.optimizer, torch.optim.Adam) and pieces.optimizer.defaults["lr"] == 0.01


@pytest.mark.parametrize("users", [None, torch.zeros(M, K, requires_grad=True), 0.1 * torch.randn(K, M, requires_grad=True)])
def test_unusable_factors_are_replaced_by_fresh_ones(users, capsys):
    ns = _good()
    ns["user_factors"] = users
    new_users, new_movies, replaced = usable_factors(users, ns["movies_factors"], K, M, N)
    assert replaced and "fresh factors" in capsys.readouterr().out
    assert new_users.shape == (K, M) and new_users.is_leaf and new_users.requires_grad
    pieces = training_pieces(ns, K, M, N, verbose=True)
    assert pieces.substituted[0] == "factors" and pieces.user_factors.shape == (K, M)
    assert "Training with the reference's factors" in capsys.readouterr().out


def test_factors_replaced_earlier_count_as_substituted():
    ns = _good()
    pieces = training_pieces(ns, K, M, N, factors_replaced=True, verbose=False)
    assert pieces.substituted == ["factors"] and pieces.user_factors is ns["user_factors"]


def test_training_check_fails_when_nothing_of_the_students_was_trained():
    with pytest.raises(AssertionError, match="at least one of your pieces"):
        check_training_reduced_loss([2.0, 1.0], 2, ["factors", "optimizer", "estimate", "calc_loss"])
    check_training_reduced_loss([2.0, 1.0], 2, ["factors", "optimizer", "estimate"])
