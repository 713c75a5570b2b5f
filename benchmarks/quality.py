"""Model quality on MovieLens 100K: test RMSE, MAE and training time of every model.

Usage::

    python benchmarks/quality.py             # both splits, the full table
    python benchmarks/quality.py --split random

Every model sees the same splits: a random 80/20 split with seed 0 and a
temporal split (each user's latest 20 % held out). All randomness is seeded.
The seed notebook's versions come from ``seed_versions.py`` beside this file,
exactly as written, so the table shows what its bugs cost.

Prints a markdown table, with the machine it ran on.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from seed_versions import seed_dense_mf, seed_train_recommender_net  # noqa: E402

from recsys_ref.baselines import BiasBaseline, GlobalMean  # noqa: E402
from recsys_ref.data import load_movielens_100k, random_split, temporal_split, to_dense  # noqa: E402
from recsys_ref.metrics import mae, rmse  # noqa: E402
from recsys_ref.mf import BiasedMF, clip_to_range, train_dense_mf  # noqa: E402
from recsys_ref.nn import RecommenderNet  # noqa: E402
from recsys_ref.threads import torch_threads  # noqa: E402
from recsys_ref.training import predict_ratings, train_recommender_net  # noqa: E402

#: Settings of the fixed models, shared with the book.
DENSE_MF_SETTINGS = {"n_factors": 50, "epochs": 250, "lr": 0.01, "weight_decay": 5.0}
RECOMMENDER_NET_SETTINGS = {"hidden": [64], "embedding_dropout": 0.3, "dropout_rate": 0.3}

Predictor = Callable[[pd.DataFrame], np.ndarray]


def dense_predictor(estimated: np.ndarray) -> Predictor:
    return lambda test: estimated[test["user_id"].to_numpy() - 1, test["item_id"].to_numpy() - 1]


def model_predictor(model) -> Predictor:
    return lambda test: model.predict(test["user_id"], test["item_id"])


def net_predictor(net: torch.nn.Module) -> Predictor:
    return lambda test: predict_ratings(net, test)


def fit_models(train: pd.DataFrame, n_users: int, n_items: int) -> dict[str, Callable[[], Predictor]]:
    """Each entry trains one model on ``train`` and returns its predictor."""
    dense = to_dense(train, n_users, n_items)

    def seed_mf() -> Predictor:
        return dense_predictor(seed_dense_mf(dense.ratings, dense.exist, seed=0))

    def fixed_mf() -> Predictor:
        result = train_dense_mf(dense.ratings, dense.exist, seed=0, **DENSE_MF_SETTINGS)
        return dense_predictor(clip_to_range(result.estimated()).numpy())

    def seed_net() -> Predictor:
        # One thread, as the reference's training uses (see recsys_ref.threads), so times compare.
        with torch_threads(1):
            return net_predictor(seed_train_recommender_net(train, n_users, n_items, epochs=5, seed=0))

    def fixed_net() -> Predictor:
        torch.manual_seed(0)
        net = RecommenderNet(n_users, n_items, **RECOMMENDER_NET_SETTINGS)
        train_recommender_net(net, train, seed=0)
        return net_predictor(net)

    return {
        "Global mean": lambda: model_predictor(GlobalMean().fit(train)),
        "Bias baseline (mu + b_u + b_i)": lambda: model_predictor(BiasBaseline().fit(train)),
        "Seed dense MF, as written": seed_mf,
        "Dense MF, fixed": fixed_mf,
        "BiasedMF": lambda: model_predictor(BiasedMF(seed=0).fit(train)),
        "Seed RecommenderNet, as written (5 epochs)": seed_net,
        "RecommenderNet, fixed": fixed_net,
    }


def evaluate(split_name: str, train: pd.DataFrame, test: pd.DataFrame, n_users: int, n_items: int) -> list[dict]:
    rows = []
    for name, fit in fit_models(train, n_users, n_items).items():
        started = time.perf_counter()
        predict = fit()
        seconds = time.perf_counter() - started
        predicted = predict(test)
        rows.append(
            {
                "split": split_name,
                "model": name,
                "test RMSE": rmse(test["rating"], predicted),
                "test MAE": mae(test["rating"], predicted),
                "train s": seconds,
            }
        )
        print(f"  {split_name:8s} {name:45s} RMSE {rows[-1]['test RMSE']:.4f}  ({seconds:.1f} s)", file=sys.stderr)
    return rows


def markdown_table(rows: list[dict]) -> str:
    lines = ["| split | model | test RMSE | test MAE | train s |", "|---|---|---:|---:|---:|"]
    for row in rows:
        lines.append(
            f"| {row['split']} | {row['model']} | {row['test RMSE']:.4f} | {row['test MAE']:.4f} | {row['train s']:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["random", "temporal", "both"], default="both")
    args = parser.parse_args()
    data = load_movielens_100k()
    splits = {
        "random": lambda: random_split(data.ratings, test_fraction=0.2, seed=0),
        "temporal": lambda: temporal_split(data.ratings, test_fraction=0.2),
    }
    chosen = list(splits) if args.split == "both" else [args.split]
    rows = []
    for name in chosen:
        train, test = splits[name]()
        rows += evaluate(name, train, test, data.n_users, data.n_items)
    print(
        f"MovieLens 100K, {len(data.ratings):,} ratings; random = 80/20 with seed 0, "
        "temporal = each user's latest 20 % held out.\n"
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), Python {platform.python_version()}.\n"
    )
    print(markdown_table(rows))


if __name__ == "__main__":
    main()
