"""train_recommender_net, predict_ratings and RecommenderNetPredictor on small synthetic data.

The data: 60 users x 40 movies, half the cells rated, from a planted rank-3
matrix with a little noise (about 1,300 ratings); 20 % of them are the
validation part. One epoch is a handful of mini-batches, so every training
run here takes about a second or less.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import recsys_ref.nn_training
import recsys_ref.training
from recsys_ref.base import NotFittedError
from recsys_ref.data import make_synthetic_ratings, random_split
from recsys_ref.metrics import rmse
from recsys_ref.nn import RecommenderNet
from recsys_ref.nn_training import (
    RecommenderNetPredictor,
    TrainingHistory,
    predict_ratings,
    ratings_to_tensors,
    train_recommender_net,
)

N_USERS, N_MOVIES = 60, 40


@pytest.fixture(scope="module")
def split() -> tuple[pd.DataFrame, pd.DataFrame]:
    ratings, _ = make_synthetic_ratings(N_USERS, N_MOVIES, rank=3, density=0.5, noise=0.3, seed=0)
    return random_split(ratings, test_fraction=0.2, seed=1)


def new_net(seed: int = 0, **kwargs) -> RecommenderNet:
    torch.manual_seed(seed)
    return RecommenderNet(N_USERS, N_MOVIES, **{"n_factors": 8, "hidden": [16], **kwargs})


def valid_mse(model: nn.Module, valid: pd.DataFrame) -> float:
    """The validation MSE of a model, computed as the training loop does (float32, eval mode)."""
    users, movies, values = ratings_to_tensors(valid)
    model.eval()
    with torch.no_grad():
        return nn.functional.mse_loss(model(users, movies).reshape(-1), values).item()


@pytest.fixture(scope="module")
def overfitting_run(split):
    """A fast learning rate without weight decay: validation improves, then gets worse."""
    train, valid = split
    net = new_net()
    initial_loss = valid_mse(net, valid)
    history = train_recommender_net(
        net, train, valid=valid, epochs=40, batch_size=64, lr=3e-2, weight_decay=0.0, patience=3
    )
    return net, history, initial_loss


def test_ratings_to_tensors_makes_zero_based_indices():
    frame = pd.DataFrame({"user_id": [1, 3], "item_id": [2, 1], "rating": [4, 5]})

    users, movies, values = ratings_to_tensors(frame)

    assert (
        users.dtype == torch.long and movies.dtype == torch.long and values.dtype == torch.float32
    )
    assert users.tolist() == [0, 2] and movies.tolist() == [1, 0] and values.tolist() == [4.0, 5.0]


def test_training_reduces_the_validation_loss(overfitting_run):
    net, history, initial_loss = overfitting_run

    assert isinstance(history, TrainingHistory)
    assert initial_loss > 1.0  # the untrained net predicts about 3 for everyone
    assert min(history.valid_loss) < 0.6 * initial_loss
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.seconds > 0


def test_the_best_weights_are_restored(overfitting_run, split):
    net, history, _ = overfitting_run
    _, valid = split
    best = min(history.valid_loss)

    # The run went on past its best epoch, and the weights of that epoch came back.
    assert history.best_epoch == history.valid_loss.index(best)
    assert history.best_epoch < len(history.valid_loss) - 1
    assert history.valid_loss[-1] > best
    assert valid_mse(net, valid) == pytest.approx(best, rel=1e-6)


def test_early_stopping_stops_before_the_epoch_budget(overfitting_run):
    _, history, _ = overfitting_run

    n_epochs = len(history.valid_loss)
    assert n_epochs < 40
    assert n_epochs == history.best_epoch + 1 + 3  # patience=3 epochs without improvement
    assert len(history.train_loss) == len(history.learning_rate) == n_epochs


@pytest.mark.parametrize("patience", [1, 3])
def test_early_stopping_when_validation_never_improves(split, patience):
    train, valid = split
    net = new_net()
    before = {name: value.clone() for name, value in net.state_dict().items()}

    # lr = 0: the weights never move, so the validation loss never improves after epoch 0.
    history = train_recommender_net(
        net, train, valid=valid, epochs=30, batch_size=256, lr=0.0, patience=patience
    )

    assert len(history.valid_loss) == 1 + patience
    assert history.best_epoch == 0
    assert all(torch.equal(before[name], value) for name, value in net.state_dict().items())


@pytest.mark.parametrize("lr_patience", [1, 2])
def test_reduce_lr_on_plateau_lowers_the_learning_rate(split, lr_patience):
    train, valid = split
    lr, factor = 1e-6, 0.5

    # A learning rate so small that the validation loss stays on a plateau.
    history = train_recommender_net(
        new_net(),
        train,
        valid=valid,
        epochs=2 * lr_patience + 4,
        batch_size=256,
        lr=lr,
        lr_factor=factor,
        lr_patience=lr_patience,
        patience=100,
    )

    rates = history.learning_rate
    # After the first epoch sets the reference, the rate is cut only once more than
    # lr_patience epochs in a row have not improved (ReduceLROnPlateau's num_bad_epochs > patience).
    first_cut = lr_patience + 2
    assert rates[:first_cut] == [lr] * first_cut
    assert rates[first_cut] == pytest.approx(lr * factor)
    assert rates[first_cut + lr_patience + 1] == pytest.approx(lr * factor**2)
    assert all(later <= earlier for earlier, later in zip(rates, rates[1:]))


def test_training_is_deterministic_for_a_seed(split):
    train, valid = split
    settings = dict(valid=valid, epochs=3, batch_size=128, seed=5)

    first_net, again_net, other_net = new_net(), new_net(), new_net()
    first = train_recommender_net(first_net, train, **settings)
    again = train_recommender_net(again_net, train, **settings)
    other = train_recommender_net(other_net, train, **{**settings, "seed": 6})

    assert first.train_loss == again.train_loss
    assert first.valid_loss == again.valid_loss
    assert all(
        torch.equal(a, b)
        for a, b in zip(first_net.state_dict().values(), again_net.state_dict().values())
    )
    # The seed drives the shuffling and dropout, so another seed trains differently.
    assert first.train_loss != other.train_loss


class Recorder(nn.Module):
    """Wraps a net and records the (user, movie) pairs of every training-mode call."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net
        self.batches: list[torch.Tensor] = []

    def forward(self, users, movies, minmax=None):
        if self.training:
            self.batches.append(torch.stack([users, movies], dim=1))
        return self.net(users, movies, minmax)


def test_each_epoch_shuffles_and_visits_every_training_rating_once(split):
    train, valid = split
    model = Recorder(new_net())

    train_recommender_net(model, train, valid=valid, epochs=3, batch_size=100, patience=10)

    users, movies, _ = ratings_to_tensors(train)
    in_frame_order = torch.stack([users, movies], dim=1)
    per_epoch = -(-len(train) // 100)  # batches per epoch, the last one shorter
    assert len(model.batches) == 3 * per_epoch
    epochs = [torch.cat(model.batches[e * per_epoch : (e + 1) * per_epoch]) for e in range(3)]
    key = lambda pairs: sorted(map(tuple, pairs.tolist()))  # noqa: E731
    for order in epochs:
        assert key(order) == key(in_frame_order)  # a permutation: each rating exactly once
    assert not torch.equal(epochs[0], in_frame_order)
    assert not torch.equal(epochs[0], epochs[1]) and not torch.equal(epochs[1], epochs[2])


def test_without_valid_a_seeded_share_of_train_is_held_out(split):
    train, _ = split
    net = new_net()

    history = train_recommender_net(
        net, train, valid_fraction=0.25, epochs=3, batch_size=128, seed=2
    )

    _, held_out = random_split(train, test_fraction=0.25, seed=2)
    assert valid_mse(net, held_out) == pytest.approx(min(history.valid_loss), rel=1e-6)


def test_an_empty_validation_part_raises(split):
    train, valid = split
    tiny = train.head(4)  # round(0.1 * 4) = 0 ratings held out

    with pytest.raises(ValueError, match="validation"):
        train_recommender_net(new_net(), tiny, epochs=2)
    with pytest.raises(ValueError, match="validation"):
        train_recommender_net(new_net(), train, valid=valid.head(0), epochs=2)


def test_training_leaves_the_model_in_eval_mode(split):
    train, valid = split
    net = new_net()

    train_recommender_net(net, train, valid=valid, epochs=1, batch_size=256)

    assert not net.training


def test_progress_bar_option_runs(split, capsys):
    train, valid = split

    history = train_recommender_net(
        new_net(), train, valid=valid, epochs=2, batch_size=256, progress=True
    )

    assert len(history.valid_loss) == 2
    assert "epochs" in capsys.readouterr().err


# --- predict_ratings ------------------------------------------------------------------------


@pytest.mark.parametrize("training", [True, False])
def test_predict_ratings_restores_the_train_or_eval_mode(split, training):
    _, valid = split
    net = new_net(embedding_dropout=0.5, dropout_rate=0.5)
    net.train(training)

    first = predict_ratings(net, valid)
    again = predict_ratings(net, valid)

    assert net.training is training
    assert all(m.training is training for m in net.modules())
    # Predictions are made in eval mode, whatever the mode before: no dropout noise.
    np.testing.assert_array_equal(first, again)


def test_predict_ratings_matches_the_forward_pass_for_any_batch_size(split):
    _, valid = split
    net = new_net().eval()
    users, movies, _ = ratings_to_tensors(valid)

    with torch.no_grad():
        expected = net(users, movies).reshape(-1).numpy()

    assert predict_ratings(net, valid).shape == (len(valid),)
    np.testing.assert_array_equal(predict_ratings(net, valid), expected)
    np.testing.assert_allclose(predict_ratings(net, valid, batch_size=7), expected, rtol=1e-6)


def test_predict_ratings_of_no_pairs_is_empty(split):
    _, valid = split

    assert predict_ratings(new_net(), valid.head(0)).shape == (0,)


# --- the old module name ------------------------------------------------------------------


def test_recsys_ref_training_is_an_alias_of_nn_training():
    """The released notebooks import recsys_ref.training; it must hand out the very same objects."""
    for name in (
        "train_recommender_net",
        "predict_ratings",
        "ratings_to_tensors",
        "TrainingHistory",
    ):
        assert getattr(recsys_ref.training, name) is getattr(recsys_ref.nn_training, name)


def test_the_package_docstring_names_the_alias():
    """help(recsys_ref) lists nn_training; a reader of the deep notebook meets recsys_ref.training."""
    import recsys_ref

    doc = " ".join(recsys_ref.__doc__.split())
    assert "``recsys_ref.training`` is :mod:`recsys_ref.nn_training` under the name the released deep notebook imports" in doc


# --- RecommenderNetPredictor ------------------------------------------------------------------

SMALL_NET = {"n_factors": 8, "hidden": (16,), "embedding_dropout": 0.0, "dropout_rate": 0.1}
QUICK = {"epochs": 40, "batch_size": 64, "lr": 3e-2, "weight_decay": 0.0, "patience": 3}


def test_predictor_trains_the_network_as_train_recommender_net_does(split):
    train, test = split

    model = RecommenderNetPredictor(
        SMALL_NET, training=QUICK, shape=(N_USERS, N_MOVIES), seed=4
    ).fit(train)
    torch.manual_seed(4)
    net = RecommenderNet(N_USERS, N_MOVIES, **SMALL_NET)
    history = train_recommender_net(net, train, seed=4, **QUICK)

    assert model.history.valid_loss == history.valid_loss
    known = test["user_id"].isin(train["user_id"]) & test["item_id"].isin(train["item_id"])
    np.testing.assert_allclose(
        model.predict(test["user_id"], test["item_id"])[known],
        predict_ratings(net, test[known]),
        rtol=1e-6,
    )
    global_mean = rmse(test["rating"], np.full(len(test), train["rating"].mean()))
    assert rmse(test["rating"], model.predict(test["user_id"], test["item_id"])) < 0.9 * global_mean


def test_predictor_falls_back_to_the_mean_and_scores_every_item(split):
    train, _ = split
    model = RecommenderNetPredictor(SMALL_NET, training={"epochs": 2}, seed=0).fit(train)

    np.testing.assert_allclose(model.predict([999, 1], [1, 999]), model.global_mean)
    scores = model.score_items([1, 2, 999])
    assert scores.shape == (3, N_MOVIES)
    np.testing.assert_allclose(scores[2], model.global_mean)
    np.testing.assert_allclose(
        scores[0], model.predict(np.ones(N_MOVIES, dtype=int), np.arange(1, N_MOVIES + 1))
    )


def test_predictor_before_fit_raises_and_the_shape_must_cover_the_ids(split):
    train, _ = split
    with pytest.raises(NotFittedError, match="before fit"):
        RecommenderNetPredictor().predict([1], [1])
    with pytest.raises(ValueError, match="too small"):
        RecommenderNetPredictor(SMALL_NET, shape=(5, 5)).fit(train)
