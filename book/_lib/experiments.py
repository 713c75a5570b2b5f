"""The book's experiments: its splits, its models with their tuned settings, and cached runs.

Every results table of the book trains its models through :func:`run`, which

1. splits MovieLens 100K (:class:`Split`: a random 80/20 split with a given
   seed, or the temporal split),
2. builds the model with the settings the reference defines once
   (:func:`build`: :data:`recsys_ref.mf.DENSE_MF_TUNED`,
   :data:`recsys_ref.nn.RECOMMENDER_NET_TUNED`, the defaults of the other
   classes, which are their tuned values), plus an optional *variant*
   (changed keyword arguments),
3. trains it on the training part, timing the training alone (CPU time),
4. predicts every test rating and, for the rankers, evaluates its top-10
   lists with :func:`recsys_ref.ranking.evaluate_ranking` (full ranking of
   every unseen film by the unclipped ``score_items``; ties to the lower id),

and keeps the result in the on-disk cache of :mod:`_lib.cache`, so that a
model is trained once per build however many chapters show it.

The original notebook's two models are not rating predictors; they run from
:mod:`original_notebook` (the notebook's code as written) through
:func:`original_dense_mf` and :func:`original_net`, which add nothing but
measurements.

This module belongs to the book, not to ``recsys_ref``: it is the book's lab
notebook, and ``benchmarks/quality.py`` builds the same models from the same
constants.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import io
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch

from _lib.cache import cached
from original_notebook import dense_mf as original_dense_mf_code
from original_notebook import recommender_net as original_net_code
from recsys_ref.base import RatingPredictor
from recsys_ref.baselines import BiasBaseline, GlobalMean
from recsys_ref.data import MovieLens100K, random_split, ratings_checksum, temporal_split, to_dense
from recsys_ref.metrics import accuracy_within, mae, rmse
from recsys_ref.mf import DENSE_MF_TUNED, BiasedMF, DenseMF, minmax_to_range
from recsys_ref.nn import RECOMMENDER_NET_TUNED
from recsys_ref.nn import RecommenderNet as FixedRecommenderNet
from recsys_ref.nn_training import RecommenderNetPredictor, predict_ratings
from recsys_ref.paradigms import ContentKNN, DemographicMeans, ItemKNN, RecencyPopularity
from recsys_ref.ranking import evaluate_ranking
from recsys_ref.threads import torch_threads

#: Seeds of the random 80/20 splits every results table averages over.
SPLIT_SEEDS = (0, 1, 2)
#: Share of the ratings held out for testing.
TEST_FRACTION = 0.2
#: Length of the recommendation lists.
K = 10
#: A held-out rating of at least this many stars makes a film relevant.
RELEVANT_THRESHOLD = 4.0
#: Hidden sizes of the original notebook's network (its cell ``In [19]``).
ORIGINAL_HIDDEN = (128, 256, 128)
#: Epochs the book trains the original notebook's network for (the notebook: 100).
ORIGINAL_NET_EPOCHS = 5


@dataclass(frozen=True)
class Split:
    """A train/test split of MovieLens 100K.

    Attributes:
        kind: ``"random"`` (:func:`~recsys_ref.data.random_split`, 20 % of all
            ratings) or ``"temporal"`` (:func:`~recsys_ref.data.temporal_split`,
            each user's latest 20 %).
        seed: The random split's seed (``None`` for the temporal split).
    """

    kind: Literal["random", "temporal"] = "random"
    seed: int | None = 0

    def parts(self, ratings: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``(train, test)``."""
        if self.kind == "temporal":
            return temporal_split(ratings, test_fraction=TEST_FRACTION)
        return random_split(ratings, test_fraction=TEST_FRACTION, seed=self.seed)

    @property
    def label(self) -> str:
        return "temporal" if self.kind == "temporal" else f"random, seed {self.seed}"


RANDOM_SPLITS = tuple(Split("random", seed) for seed in SPLIT_SEEDS)
TEMPORAL_SPLIT = Split("temporal", None)


@dataclass
class Run:
    """One model trained on one split's training part and scored on its test part.

    Attributes:
        model: The model's name in the book (a key of :data:`MODELS` or an original model).
        split: The split.
        variant: Keyword arguments that differ from the book's settings.
        predictions: One predicted rating per test rating, in the test part's row order.
        truth: The test ratings, same order.
        seconds: CPU time of training, in seconds (without predicting or
            measuring): training runs on one thread, so this is its cost, and
            it does not depend on what else the machine is doing, as wall-clock
            time on a shared machine does.
        train_rmse, train_accuracy: RMSE and accuracy within 0.5 on the
            training ratings (``None`` where not computed).
        ranking: Per-user ranking metrics of the top-10 lists
            (:attr:`recsys_ref.ranking.RankingReport.per_user`), or ``None``.
        top_k: The evaluated users' lists (0-based item indices), or ``None``.
        fitted: The trained model, kept where it is small (not for the
            neighbourhood models, whose item-item matrices are large).
        extras: What a chapter needs besides: curves, printed output, counts.
    """

    model: str
    split: Split
    variant: dict[str, Any]
    predictions: np.ndarray
    truth: np.ndarray
    seconds: float
    train_rmse: float | None = None
    train_accuracy: float | None = None
    ranking: pd.DataFrame | None = None
    top_k: np.ndarray | None = None
    fitted: RatingPredictor | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def rmse(self) -> float:
        return rmse(self.truth, self.predictions)

    @property
    def mae(self) -> float:
        return mae(self.truth, self.predictions)

    @property
    def accuracy(self) -> float:
        """Share of test predictions within half a star (the original notebook's measure)."""
        return accuracy_within(self.truth, self.predictions)


# --- the models ---------------------------------------------------------------------------------

#: The rating predictors of the book, by the name its tables use: builders of
#: an unfitted model from the data and a variant (changed keyword arguments).
MODELS: dict[str, Any] = {
    "global mean": lambda data, **v: GlobalMean(**v),
    "popularity": lambda data, **v: RecencyPopularity(**{"half_life_days": None, **v}),
    "recency popularity": lambda data, **v: RecencyPopularity(**v),
    "demographic": lambda data, **v: DemographicMeans(data.users, **v),
    "content kNN": lambda data, **v: ContentKNN(data.items, **v),
    "item kNN": lambda data, **v: ItemKNN(**v),
    "bias baseline": lambda data, **v: BiasBaseline(**v),
    "BiasedMF": lambda data, **v: BiasedMF(**{"seed": 0, **v}),
    "dense MF": lambda data, **v: DenseMF(
        **{**DENSE_MF_TUNED, "shape": (data.n_users, data.n_items), "seed": 0, **v}
    ),
    "RecommenderNet": lambda data, **v: RecommenderNetPredictor(
        **{"network": RECOMMENDER_NET_TUNED, "shape": (data.n_users, data.n_items), "seed": 0, **v}
    ),
}

#: Neighbourhood models: scoring the training ratings costs time (a neighbourhood per
#: rating) and is not needed, and their item-item matrices are too large to keep.
_NEIGHBOURHOODS = {"item kNN", "content kNN"}


def build(name: str, data: MovieLens100K, **variant: Any) -> RatingPredictor:
    """An unfitted model of :data:`MODELS`, with the book's settings changed by ``variant``."""
    return MODELS[name](data, **variant)


def data_key(data: MovieLens100K) -> str:
    """A short fingerprint of the three tables (item titles and years differ between sources)."""
    digest = hashlib.sha256(ratings_checksum(data.ratings).encode())
    for table in (data.users, data.items):
        digest.update(pd.util.hash_pandas_object(table.astype(str), index=True).to_numpy().tobytes())
    return digest.hexdigest()[:16]


def _key(name: str, split: Split, data: MovieLens100K, variant: Mapping[str, Any], **more: Any) -> dict:
    return {"model": name, "split": [split.kind, split.seed], "data": data_key(data),
            "variant": dict(variant), **more}


def run(
    name: str, split: Split, data: MovieLens100K, *, rank: bool = True, **variant: Any
) -> Run:
    """Train model ``name`` (with ``variant``) on ``split``'s training part and score it; cached.

    Args:
        name: A key of :data:`MODELS`, ``"original dense MF"`` or ``"original RecommenderNet"``.
        split: Which split.
        data: MovieLens 100K.
        rank: Also evaluate the model's top-10 lists (rating predictors only).
        variant: Keyword arguments of the model that differ from the book's settings.
    """
    if name == "original dense MF":
        return original_dense_mf(split, data, **variant)
    if name == "original RecommenderNet":
        return original_net(split, data, **variant)
    model = build(name, data, **variant)  # fails early on a bad name or argument
    key = _key(name, split, data, variant, model=repr(model), rank=rank)
    return cached("run", key, lambda: _run_predictor(name, model, split, data, rank, variant))


def _run_predictor(
    name: str, model: RatingPredictor, split: Split, data: MovieLens100K, rank: bool, variant: dict
) -> Run:
    # One thread, whoever calls: the results do not depend on the number of threads
    # (sums in another order differ in the last bits), and small models run faster so.
    with torch_threads(1):
        return _fit_and_score(name, model, split, data, rank, variant)


def _fit_and_score(
    name: str, model: RatingPredictor, split: Split, data: MovieLens100K, rank: bool, variant: dict
) -> Run:
    train, test = split.parts(data.ratings)
    started = time.process_time()
    model.fit(train)
    seconds = time.process_time() - started
    result = Run(
        model=name,
        split=split,
        variant=dict(variant),
        predictions=model.predict(test["user_id"], test["item_id"]),
        truth=test["rating"].to_numpy(dtype=float),
        seconds=seconds,
    )
    if name not in _NEIGHBOURHOODS:
        result.fitted = model
        on_train = model.predict(train["user_id"], train["item_id"])
        result.train_rmse = rmse(train["rating"], on_train)
        result.train_accuracy = accuracy_within(train["rating"], on_train)
    if rank:
        report = evaluate_ranking(
            model, train, test, k=K, threshold=RELEVANT_THRESHOLD, n_items=data.n_items
        )
        result.ranking, result.top_k = report.per_user, report.top_k
        result.extras["coverage"] = report.coverage
        result.extras["users_tied_at_top"] = _users_tied_at_top(model, train, data)
    return result


def _users_tied_at_top(model: RatingPredictor, train: pd.DataFrame, data: MovieLens100K) -> int | None:
    """How many users have more than K unseen films predicted at 5 stars or above.

    For them a top-10 list of *clipped* predictions would be chosen among
    ties by the tie rule (review error 12); computed for the models that
    predict with a dot product (cheap to score).
    """
    if not isinstance(model, (BiasedMF, BiasBaseline, DenseMF)):
        return None
    users = np.arange(1, data.n_users + 1)
    scores = model.score_items(users, n_items=data.n_items)
    seen = np.zeros_like(scores, dtype=bool)
    seen[train["user_id"] - 1, train["item_id"] - 1] = True
    at_top = ((scores >= 5.0) & ~seen).sum(axis=1)
    return int((at_top > K).sum())


# --- the original notebook's models, as written, with measurements ------------------------------


def factor_tensors(tensor: torch.Tensor) -> list[torch.Tensor]:
    """The leaf tensors a result was computed from, found through its autograd graph.

    :func:`original_notebook.dense_mf.train_dense_mf` keeps its factors to
    itself and returns only the min-max rescaled estimate; its measurement
    hook sees each epoch's estimate, whose graph leads back to the two factor
    tensors. Reading them after training gives the raw final estimate.
    """
    found, stack = [], [tensor.grad_fn]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        if hasattr(node, "variable"):
            found.append(node.variable)
        stack.extend(next_node for next_node, _ in node.next_functions)
    return found


def original_start(ratings: torch.Tensor, exist: torch.Tensor) -> tuple[float, float]:
    """The original notebook's loss and the norm of its gradient at its random start (seed 0).

    Runs one epoch of :func:`original_notebook.dense_mf.train_dense_mf`: its
    hook sees the loss of the starting factors, and after the backward pass
    the factors hold that loss's gradient (the notebook never resets it).
    """
    measured: dict[str, float] = {}

    def on_epoch(epoch: int, loss: torch.Tensor, estimated: torch.Tensor) -> None:
        gradients = [tensor.grad for tensor in factor_tensors(estimated)]
        measured["loss"] = loss.item()
        measured["gradient norm"] = torch.sqrt(sum(g.square().sum() for g in gradients)).item()

    with torch_threads(1), contextlib.redirect_stdout(io.StringIO()):
        torch.manual_seed(0)
        original_dense_mf_code.train_dense_mf(ratings, exist, epochs=1, on_epoch=on_epoch)
    return measured["loss"], measured["gradient norm"]


def original_dense_mf(split: Split, data: MovieLens100K, *, epochs: int = 250) -> Run:
    """The original notebook's dense MF, as written (seed 0), with measurements; cached.

    Calls :func:`original_notebook.dense_mf.train_dense_mf` on the training
    part. Its ``on_epoch`` hook records, every fifth epoch, the training loss
    per observed rating (the notebook's loss times the number of cells per
    rating) and the test RMSE of the notebook's own min-max rescaling.

    ``extras``: ``curve`` (epoch, train loss, test RMSE), ``printed`` (what the
    notebook prints), ``raw_test`` (the raw estimates at the test pairs,
    before rescaling), ``raw_range`` (smallest and largest raw estimate) and
    ``start_rmse`` (test RMSE of the untrained random start, min-max rescaled).
    """
    key = _key("original dense MF", split, data, {"epochs": epochs})
    return cached("original-dense-mf", key, lambda: _original_dense_mf(split, data, epochs))


def _original_dense_mf(split: Split, data: MovieLens100K, epochs: int) -> Run:
    train, test = split.parts(data.ratings)
    dense = to_dense(train, data.n_users, data.n_items)
    rows, columns = test["user_id"].to_numpy() - 1, test["item_id"].to_numpy() - 1
    truth = test["rating"].to_numpy(dtype=float)
    cells_per_rating = dense.exist.numel() / dense.exist.sum().item()
    curve: dict[str, list[float]] = {"epoch": [], "train loss": [], "test RMSE": []}
    leaves: list[torch.Tensor] = []
    spent = [0.0]

    def on_epoch(epoch: int, loss: torch.Tensor, estimated: torch.Tensor) -> None:
        started = time.process_time()
        if not leaves:
            leaves.extend(factor_tensors(estimated))
        if epoch % 5 == 4:
            with torch.no_grad():
                rescaled = minmax_to_range(estimated.detach())
                curve["epoch"].append(epoch + 1)
                curve["train loss"].append(loss.item() * cells_per_rating)
                curve["test RMSE"].append(rmse(truth, rescaled[rows, columns].numpy()))
        spent[0] += time.process_time() - started

    with torch_threads(1):
        n_factors = inspect.signature(original_dense_mf_code.train_dense_mf).parameters["n_factors"].default
        torch.manual_seed(0)  # the same draws as the notebook's first two lines of training
        start_factors = torch.rand(n_factors, data.n_users), torch.rand(n_factors, data.n_items)
        start = minmax_to_range(start_factors[0].T @ start_factors[1])
        printed = io.StringIO()
        torch.manual_seed(0)  # the notebook sets no seed; the book uses 0
        started = time.process_time()
        with contextlib.redirect_stdout(printed):
            estimated = original_dense_mf_code.train_dense_mf(
                dense.ratings, dense.exist, epochs=epochs, logging_rate=50, on_epoch=on_epoch
            )
        seconds = time.process_time() - started - spent[0]
        user_factors, movie_factors = sorted(leaves, key=lambda t: t.shape[1])  # (k, m), (k, n)
        raw = (user_factors.T @ movie_factors).detach()
    return Run(
        model="original dense MF",
        split=split,
        variant={"epochs": epochs},
        predictions=np.asarray(estimated)[rows, columns].astype(float),
        truth=truth,
        seconds=seconds,
        extras={
            "curve": curve,
            "printed": printed.getvalue(),
            "raw_test": raw[rows, columns].numpy().astype(float),
            "raw_range": (float(raw.min()), float(raw.max())),
            "start_rmse": rmse(truth, start[rows, columns].numpy()),
        },
    )


def original_net(
    split: Split, data: MovieLens100K, *, network: Literal["original", "fixed"] = "original",
    epochs: int = ORIGINAL_NET_EPOCHS,
) -> Run:
    """The original notebook's training loop, as written, for ``epochs`` epochs (seed 0); cached.

    Builds the batches with :func:`original_notebook.recommender_net.make_batches`
    and trains with :func:`original_notebook.recommender_net.train`, either
    the notebook's own network (``network="original"``) or the fixed
    :class:`recsys_ref.nn.RecommenderNet` with the same sizes
    (``network="fixed"``). The hook measures the test RMSE after each epoch.
    Finally the notebook's evaluation cell
    (:func:`original_notebook.recommender_net.evaluate`) runs on the training
    batches, as the notebook does.

    ``extras``: ``curve`` (test RMSE per epoch), ``printed`` (what the
    training prints), ``first_layer_unchanged`` (whether training left the
    first hidden layer's weights as initialised), ``own_evaluation``
    (the notebook's average batch loss and accuracy on the training batches)
    and ``own_evaluation_printed``.
    """
    variant = {"network": network, "epochs": epochs}
    key = _key("original RecommenderNet", split, data, variant, hidden=ORIGINAL_HIDDEN)
    return cached("original-net", key, lambda: _original_net(split, data, network, epochs))


def _original_net(split: Split, data: MovieLens100K, network: str, epochs: int) -> Run:
    train, test = split.parts(data.ratings)
    truth = test["rating"].to_numpy(dtype=float)
    curve: list[float] = []
    spent = [0.0]

    def on_epoch(epoch: int, net: torch.nn.Module) -> None:
        started = time.process_time()
        curve.append(rmse(truth, predict_ratings(net, test)))
        spent[0] += time.process_time() - started

    with torch_threads(1), warnings.catch_warnings():
        # The notebook hands the scheduler a tensor that requires gradients; torch warns each epoch.
        warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad=True")
        torch.manual_seed(0)
        batches = original_net_code.make_batches(
            train.rename(columns=original_net_code.ORIGINAL_COLUMN_NAMES)
        )
        net_class = original_net_code.RecommenderNet if network == "original" else FixedRecommenderNet
        net = net_class(data.n_users, data.n_items, hidden=list(ORIGINAL_HIDDEN))
        first_layer = net.hidden[0].weight.detach().clone()
        printed = io.StringIO()
        started = time.process_time()
        with contextlib.redirect_stdout(printed):
            net = original_net_code.train(
                batches, data.n_users, data.n_items, epochs=epochs, net=net, on_epoch=on_epoch
            )
        seconds = time.process_time() - started - spent[0]
        unchanged = torch.equal(first_layer, net.hidden[0].weight.detach())
        predictions = predict_ratings(net, test).astype(float)
        evaluation_printed = io.StringIO()
        with contextlib.redirect_stdout(evaluation_printed):
            own = original_net_code.evaluate(net, batches)
    return Run(
        model="original RecommenderNet",
        split=split,
        variant={"network": network, "epochs": epochs},
        predictions=predictions,
        truth=truth,
        seconds=seconds,
        extras={
            "curve": curve,
            "printed": printed.getvalue(),
            "first_layer_unchanged": unchanged,
            "own_evaluation": own,
            "own_evaluation_printed": evaluation_printed.getvalue(),
        },
    )


def runs(name: str, data: MovieLens100K, splits=RANDOM_SPLITS, **options: Any) -> list[Run]:
    """:func:`run` on each of ``splits`` (by default the three random splits)."""
    return [run(name, split, data, **options) for split in splits]
