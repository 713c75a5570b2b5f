"""Ranking from implicit feedback on MovieLens 100K: the reference models, popularity and ``implicit``.

Usage::

    python benchmarks/ranking.py                   # both splits, the test table and the targets
    python benchmarks/ranking.py --split random
    python benchmarks/ranking.py --tune            # the validation grids behind the *_TUNED settings

Every model sees the same splits: a random 80/20 split with seed 0 and a
temporal split (each user's latest 20 % held out). Evaluation is
:func:`recsys_ref.ranking.evaluate_ranking`: full ranking over every item
the user did not rate in training, relevant = test ratings >= 4, K = 10,
ties by lower item id. The reference models run with their tuned settings
(:data:`~recsys_ref.implicit.BPR_TUNED`, :data:`~recsys_ref.implicit.IALS_TUNED`,
:data:`~recsys_ref.implicit.ITEM_KNN_TUNED`), which learn from the ratings
>= 4; the peers (``implicit``'s ALS with 64 factors and BPR with its
defaults) learn from the same interactions, and once more from all ratings;
``implicit``'s ALS also runs with iALS's tuned settings (the same model
solved by conjugate gradient: an independent implementation).

"popularity" in the ratios is the better of the two popularity rows on that
split. BLAS runs single-threaded (``threadpoolctl``); ``implicit`` uses its
default OpenMP threads (all cores), BPR-MF one torch thread.

``--tune`` fits each model on a validation part of the random split's
training part (``random_split(train, test_fraction=0.2, seed=1)``) and
prints validation NDCG@10 for each setting of its grid; the test set plays
no part. The best rows are the ``*_TUNED`` records.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import os
import platform
import sys
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
from threadpoolctl import threadpool_limits

from recsys_ref.data import load_movielens_100k, random_split, temporal_split
from recsys_ref.implicit import (
    BPR_TUNED,
    BPRMF,
    IALS,
    IALS_TUNED,
    ITEM_KNN_TUNED,
    ImplicitRecommender,
    ItemKNN,
    Popularity,
)
from recsys_ref.implicit.peers import ImplicitLibraryALS, ImplicitLibraryBPR
from recsys_ref.ranking import evaluate_ranking

K = 10
THRESHOLD = 4.0
#: Targets of issue 10 (see the module docstring).
RATIO_TO_POPULARITY = 1.5
IALS_TOLERANCE = 0.05
MAX_TRAIN_SECONDS = 60.0

MODELS: dict[str, Callable[[], ImplicitRecommender]] = {
    "popularity (all ratings)": lambda: Popularity(),
    "popularity (ratings >= 4)": lambda: Popularity(threshold=THRESHOLD),
    "item-kNN": lambda: ItemKNN(),
    "BPR-MF": lambda: BPRMF(),
    "iALS": lambda: IALS(),
    "implicit ALS, 64 factors": lambda: ImplicitLibraryALS(factors=64, threshold=THRESHOLD),
    "implicit ALS, iALS's settings": lambda: ImplicitLibraryALS(
        factors=IALS_TUNED.n_factors,
        alpha=1.0 + IALS_TUNED.alpha,  # implicit's confidence alpha * x is ours, 1 + alpha * x
        regularization=IALS_TUNED.reg,
        iterations=IALS_TUNED.n_iterations,
        threshold=IALS_TUNED.threshold,
    ),
    "implicit BPR, defaults": lambda: ImplicitLibraryBPR(threshold=THRESHOLD),
    "implicit ALS, 64 factors, all ratings": lambda: ImplicitLibraryALS(factors=64, threshold=None),
    "implicit BPR, defaults, all ratings": lambda: ImplicitLibraryBPR(threshold=None),
}
REFERENCE = ("item-kNN", "BPR-MF", "iALS")

#: The validation grids of ``--tune``: model name -> (constructor, list of keyword settings).
GRIDS: dict[str, tuple[Callable[..., ImplicitRecommender], list[dict]]] = {
    "popularity": (Popularity, [{"threshold": t} for t in (None, THRESHOLD)]),
    "item-kNN": (
        ItemKNN,
        [{"threshold": t, "n_neighbours": n} for t in (None, THRESHOLD) for n in (20, 50, 100, 200, 400)],
    ),
    "iALS": (
        IALS,
        [
            {"threshold": t, "alpha": a, "reg": r}
            for t, a, r in itertools.product((None, THRESHOLD), (1.0, 3.0, 10.0), (10.0, 30.0, 100.0))
        ],
    ),
    "BPR-MF": (
        BPRMF,
        [
            {"threshold": t, "lr": lr, "reg": r, "n_epochs": 100, "batch_size": 4096}
            for t, lr, r in itertools.product((None, THRESHOLD), (0.005, 0.01), (0.003, 0.01, 0.03))
        ],
    ),
}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import implicit

    return (
        f"Machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"torch {torch.__version__}, NumPy {np.__version__}, implicit {implicit.__version__}."
    )


def markdown(table: pd.DataFrame, digits: int = 3) -> str:
    """A markdown table: the index as the first column, floats with ``digits`` decimals."""
    table = table.reset_index() if table.index.name else table
    cell = lambda v: f"{v:.{digits}f}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(map(str, table.columns)) + " |"]
    lines.append(
        "|"
        + "|".join("---:" if pd.api.types.is_numeric_dtype(table[c]) else "---" for c in table.columns)
        + "|"
    )
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)


def fit_and_evaluate(make: Callable[[], ImplicitRecommender], train, test, n_users: int, n_items: int):
    """(summary dict, training seconds) of one model on one split."""
    model = make()
    start = time.perf_counter()
    model.fit(train, n_users=n_users, n_items=n_items)
    seconds = time.perf_counter() - start
    summary = evaluate_ranking(model, train, test, k=K, threshold=THRESHOLD).summary()
    return summary, seconds


def test_table(split: str, train, test, n_users: int, n_items: int) -> pd.DataFrame:
    rows = []
    for name, make in MODELS.items():
        summary, seconds = fit_and_evaluate(make, train, test, n_users, n_items)
        rows.append(
            {
                "model": name,
                f"NDCG@{K}": summary["ndcg"],
                f"recall@{K}": summary["recall"],
                f"MAP@{K}": summary["map"],
                f"HR@{K}": summary["hit_rate"],
                "coverage": summary["coverage"],
                "novelty (bits)": summary["novelty"],
                "train s": seconds,
            }
        )
        print(f"  {split}: {name} done ({seconds:.1f} s)", file=sys.stderr, flush=True)
    table = pd.DataFrame(rows).set_index("model")
    popularity = table.loc[[name for name in table.index if name.startswith("popularity")], f"NDCG@{K}"].max()
    table["NDCG / popularity"] = table[f"NDCG@{K}"] / popularity
    return table


def targets(split: str, table: pd.DataFrame) -> list[tuple[str, bool]]:
    ndcg = table[f"NDCG@{K}"]
    popularity = ndcg[[name for name in ndcg.index if name.startswith("popularity")]].max()
    best = ndcg[list(REFERENCE)].idxmax()
    peer_als, peer_bpr = ndcg["implicit ALS, 64 factors"], ndcg["implicit BPR, defaults"]
    same_settings = ndcg["implicit ALS, iALS's settings"]
    return [
        (
            f"{split}: best reference model ({best}) NDCG@{K} {ndcg[best]:.3f} >= "
            f"{RATIO_TO_POPULARITY} x popularity {popularity:.3f} ({ndcg[best] / popularity:.2f}x)",
            ndcg[best] >= RATIO_TO_POPULARITY * popularity,
        ),
        (
            f"{split}: iALS NDCG@{K} {ndcg['iALS']:.3f} at least {1 - IALS_TOLERANCE:.0%} of implicit ALS "
            f"with 64 factors {peer_als:.3f} (same interactions; {ndcg['iALS'] / peer_als - 1:+.1%})",
            ndcg["iALS"] >= (1 - IALS_TOLERANCE) * peer_als,
        ),
        (
            f"{split}: iALS NDCG@{K} {ndcg['iALS']:.3f} within {IALS_TOLERANCE:.0%} of implicit ALS with the "
            f"same settings {same_settings:.3f} ({ndcg['iALS'] / same_settings - 1:+.1%})",
            abs(ndcg["iALS"] / same_settings - 1) <= IALS_TOLERANCE,
        ),
        (
            f"{split}: BPR-MF NDCG@{K} {ndcg['BPR-MF']:.3f} >= implicit BPR with its defaults "
            f"{peer_bpr:.3f} (same interactions)",
            ndcg["BPR-MF"] >= peer_bpr,
        ),
        (
            f"{split}: every reference model trains in <= {MAX_TRAIN_SECONDS:.0f} s "
            f"(slowest {table.loc[list(REFERENCE), 'train s'].max():.1f} s)",
            bool((table.loc[list(REFERENCE), "train s"] <= MAX_TRAIN_SECONDS).all()),
        ),
    ]


def tune(ratings: pd.DataFrame, n_users: int, n_items: int) -> None:
    train, _ = random_split(ratings, test_fraction=0.2, seed=0)
    fit_part, validation = random_split(train, test_fraction=0.2, seed=1)
    for name, (model_class, grid) in GRIDS.items():
        rows = []
        for settings in grid:
            make = functools.partial(model_class, **settings)
            summary, seconds = fit_and_evaluate(make, fit_part, validation, n_users, n_items)
            shown = {key: ("all" if value is None else str(value)) for key, value in settings.items()}
            rows.append({**shown, f"validation NDCG@{K}": summary["ndcg"], "train s": seconds})
            print(f"  tune {name}: {settings} -> {summary['ndcg']:.4f}", file=sys.stderr, flush=True)
        table = pd.DataFrame(rows)
        score = f"validation NDCG@{K}"
        best = table.loc[table[score].idxmax()]
        print(f"\n### {name}: validation grid (best: {best.drop(['train s', score]).to_dict()})\n")
        print(markdown(table, digits=4))
    print(
        f"\nIn force: BPR_TUNED = {dict(BPR_TUNED)}\nIALS_TUNED = {dict(IALS_TUNED)}\n"
        f"ITEM_KNN_TUNED = {dict(ITEM_KNN_TUNED)}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["random", "temporal", "both"], default="both")
    parser.add_argument("--tune", action="store_true", help="print the validation grids instead")
    args = parser.parse_args()

    data = load_movielens_100k()
    print(machine())
    with threadpool_limits(1, "blas"):
        if args.tune:
            tune(data.ratings, data.n_users, data.n_items)
            return 0
        splits = {
            "random": lambda: random_split(data.ratings, test_fraction=0.2, seed=0),
            "temporal": lambda: temporal_split(data.ratings, test_fraction=0.2),
        }
        checks = []
        for split, make_split in splits.items():
            if args.split not in (split, "both"):
                continue
            train, test = make_split()
            table = test_table(split, train, test, data.n_users, data.n_items)
            print(f"\n### {split} split (K = {K}, relevant = test ratings >= {THRESHOLD:g})\n")
            print(markdown(table))
            checks += targets(split, table)
    print("\n### Targets\n")
    for text, met in checks:
        print(f"- [{'x' if met else ' '}] {text}")
    return 0 if all(met for _, met in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
