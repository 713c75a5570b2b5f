"""Model quality on MovieLens 100K: test RMSE, MAE and training time of every model.

Usage::

    python benchmarks/quality.py                  # both splits, the full table
    python benchmarks/quality.py --split random
    python benchmarks/quality.py --only kNN       # models whose name contains "kNN"
    python benchmarks/quality.py --write-readme   # also rewrite the README's table

Every model sees the same splits: a random 80/20 split with seed 0 and a
temporal split (each user's latest 20 % held out). All randomness is seeded.
The original notebook's two models run from :mod:`original_notebook`, the
code as written, so the table shows what their bugs cost; the tuned settings
come from :data:`recsys_ref.mf.DENSE_MF_TUNED` and
:data:`recsys_ref.nn.RECOMMENDER_NET_TUNED`, the constants the book uses.

Prints a markdown table, with the machine it ran on. ``--write-readme``
replaces the lines between ``<!-- quality-table -->`` and
``<!-- /quality-table -->`` in README.md with it, and nothing else.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from original_notebook import dense_mf as original_dense_mf
from original_notebook import recommender_net as original_net
from recsys_ref.base import predict_frame
from recsys_ref.baselines import BiasBaseline, GlobalMean
from recsys_ref.data import (
    MovieLens100K,
    load_movielens_100k,
    random_split,
    temporal_split,
    to_dense,
)
from recsys_ref.metrics import mae, rmse
from recsys_ref.mf import DENSE_MF_TUNED, BiasedMF, DenseMF
from recsys_ref.nn import RECOMMENDER_NET_TUNED
from recsys_ref.nn_training import RecommenderNetPredictor, predict_ratings
from recsys_ref.paradigms import ContentKNN, DemographicMeans, ItemKNN, RecencyPopularity
from recsys_ref.threads import torch_threads

README = Path(__file__).resolve().parent.parent / "README.md"
MARKERS = ("<!-- quality-table -->", "<!-- /quality-table -->")

#: A trained model, as a function from a test frame to one prediction per row.
Predictor = Callable[[pd.DataFrame], np.ndarray]


def original_dense_mf_predictor(train: pd.DataFrame, n_users: int, n_items: int) -> Predictor:
    """The original notebook's dense MF, as written (its loss prints go to stderr), seed 0."""
    dense = to_dense(train, n_users, n_items)
    torch.manual_seed(0)
    with contextlib.redirect_stdout(sys.stderr):
        estimated = original_dense_mf.train_dense_mf(dense.ratings, dense.exist)
    return lambda test: estimated[test["user_id"].to_numpy() - 1, test["item_id"].to_numpy() - 1]


def original_net_predictor(
    train: pd.DataFrame, n_users: int, n_items: int, epochs: int = 5
) -> Predictor:
    """The original notebook's RecommenderNet and training loop, as written, for ``epochs`` epochs, seed 0.

    One thread, as the reference's training uses (see recsys_ref.threads), so times compare.
    """
    torch.manual_seed(0)
    batches = original_net.make_batches(train.rename(columns=original_net.ORIGINAL_COLUMN_NAMES))
    with torch_threads(1), contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings():
        # The notebook hands the scheduler a tensor that requires gradients; torch warns each epoch.
        warnings.simplefilter("ignore", UserWarning)
        net = original_net.train(batches, n_users, n_items, epochs=epochs)
    net.eval()
    return lambda test: predict_ratings(net, test)


def fitted(model) -> Predictor:
    """Train a RatingPredictor and return its predictor."""
    return lambda test, model=model: predict_frame(model, test)


def models(train: pd.DataFrame, data: MovieLens100K) -> dict[str, Callable[[], Predictor]]:
    """Each entry trains one model on ``train`` and returns its predictor."""
    shape = (data.n_users, data.n_items)
    return {
        "Global mean": lambda: fitted(GlobalMean().fit(train)),
        "Bias baseline (mu + b_u + b_i)": lambda: fitted(BiasBaseline().fit(train)),
        "Damped popularity (no decay)": lambda: fitted(
            RecencyPopularity(half_life_days=None).fit(train)
        ),
        "Recency popularity (half-life 30 days)": lambda: fitted(
            RecencyPopularity(half_life_days=30.0).fit(train)
        ),
        "Demographic peers' damped means": lambda: fitted(DemographicMeans(data.users).fit(train)),
        "Content kNN (genres, year; baseline form)": lambda: fitted(
            ContentKNN(data.items).fit(train)
        ),
        "Item-kNN (baseline form)": lambda: fitted(ItemKNN().fit(train)),
        "Original dense MF, as written": lambda: original_dense_mf_predictor(train, *shape),
        "Dense MF, fixed": lambda: fitted(
            DenseMF(**DENSE_MF_TUNED, shape=shape, seed=0).fit(train)
        ),
        "BiasedMF": lambda: fitted(BiasedMF(seed=0).fit(train)),
        "Original RecommenderNet, as written (5 epochs)": lambda: original_net_predictor(
            train, *shape
        ),
        "RecommenderNet, fixed": lambda: fitted(
            RecommenderNetPredictor(RECOMMENDER_NET_TUNED, shape=shape, seed=0).fit(train)
        ),
    }


def evaluate(
    split_name: str, train: pd.DataFrame, test: pd.DataFrame, data: MovieLens100K, only: str | None
) -> list[dict]:
    rows = []
    for name, fit in models(train, data).items():
        if only is not None and only.lower() not in name.lower():
            continue
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
        print(
            f"  {split_name:8s} {name:48s} RMSE {rows[-1]['test RMSE']:.4f}  ({seconds:.1f} s)",
            file=sys.stderr,
        )
    return rows


def markdown_table(rows: list[dict]) -> str:
    lines = ["| split | model | test RMSE | test MAE | train s |", "|---|---|---:|---:|---:|"]
    for row in rows:
        lines.append(
            f"| {row['split']} | {row['model']} | {row['test RMSE']:.4f} | {row['test MAE']:.4f} | {row['train s']:.1f} |"
        )
    return "\n".join(lines)


def write_readme(report: str, readme: Path = README) -> None:
    """Replace the text between the README's two quality-table markers with ``report``.

    Raises:
        ValueError: The README lacks the markers, or has them more than once or out of order.
    """
    text = readme.read_text(encoding="utf-8")
    start, end = (re.escape(marker) for marker in MARKERS)
    pattern = re.compile(f"({start}\n)(.*?)(\n{end})", re.DOTALL)
    if len(pattern.findall(text)) != 1:
        raise ValueError(
            f"{readme} must hold the lines {MARKERS[0]} and {MARKERS[1]} once each, in that order."
        )
    readme.write_text(
        pattern.sub(lambda match: match.group(1) + report + match.group(3), text), encoding="utf-8"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["random", "temporal", "both"], default="both")
    parser.add_argument("--only", help="run only the models whose name contains this text")
    parser.add_argument(
        "--write-readme", action="store_true", help="rewrite the README's quality table"
    )
    args = parser.parse_args()
    if args.write_readme and (args.split != "both" or args.only):
        parser.error("--write-readme needs the full table: drop --split and --only.")
    data = load_movielens_100k()
    splits = {
        "random": lambda: random_split(data.ratings, test_fraction=0.2, seed=0),
        "temporal": lambda: temporal_split(data.ratings, test_fraction=0.2),
    }
    chosen = list(splits) if args.split == "both" else [args.split]
    rows = []
    for name in chosen:
        train, test = splits[name]()
        rows += evaluate(name, train, test, data, args.only)
    report = (
        f"MovieLens 100K, {len(data.ratings):,} ratings; random = 80/20 with seed 0, "
        "temporal = each user's latest 20 % held out.\n"
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), Python {platform.python_version()}.\n\n"
        + markdown_table(rows)
    )
    print(report)
    if args.write_readme:
        write_readme(report)
        print(f"wrote the table into {README}", file=sys.stderr)


if __name__ == "__main__":
    main()
